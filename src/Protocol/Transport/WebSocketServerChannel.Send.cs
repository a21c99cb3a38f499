using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace MoqCluster.Protocol.Transport;

public sealed partial class WebSocketServerChannel
{
    /// <summary>
    /// Send buffers are rented in segments of this size: a whole QMux batch (64 KiB of records, four full 16 KiB
    /// records with their headers) in one write, and still below the large-object heap threshold so the pool's
    /// misses stay cheap.
    /// </summary>
    private const int SegmentSize = 80 * 1024;

    /// <summary>Smallest segment rented for a lone record or control frame.</summary>
    private const int MinSegmentSize = 256;

    private const int MaxCloseReasonBytes = WebSocketFraming.MaxCloseReasonBytes;

    // Guards the send buffer and the control-frame state. Held only for short synchronous work, never across a write.
    private readonly object _gate = new();
    // Held by whoever writes to the upgrade stream, so writes never interleave.
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    // The segment being filled and the earlier full segments of the same batch; _writing is the batch being written.
    private byte[] _segment = [];
    private int _segmentLength;
    private List<(byte[] Buffer, int Length)> _filled = [];
    private List<(byte[] Buffer, int Length)> _writing = [];
    // A record window is open between GetRecordSpan and CommitRecord: the current segment's tail is lent out.
    private bool _windowOpen;
    private int _windowReserve;
    private int _windowMax;
    private int _pendingBytes;
    // True while some flusher will still look at the pending control frames before it lets the flush lock go.
    private bool _flushOwner;
    private bool _sendFailed;
    // Pending control frames. Only the latest Ping's Pong is kept (RFC 6455 §5.5.3), so a peer flooding Pings while
    // not reading cannot grow the buffer.
    private byte[]? _pongPayload;
    private int _pongLength = -1;
    private bool _pingPending;
    private CloseState _closeState;
    private ushort _closeStatus;
    private byte[]? _closeReason;
    private int _closeReasonLength;
    private TaskCompletionSource? _closeWritten;

    private enum CloseState { Open, Queued, Emitted }

    private bool IsClosing
    {
        get
        {
            lock (_gate)
            {
                return _closeState != CloseState.Open || _sendFailed;
            }
        }
    }

    /// <inheritdoc />
    public int PendingBytes => Volatile.Read(ref _pendingBytes);

    /// <inheritdoc />
    public Span<byte> GetRecordSpan(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, MaxRecordSize);
        lock (_gate)
        {
            if (_windowOpen)
            {
                throw new InvalidOperationException("the previous record was not committed");
            }

            ThrowIfCannotSendLocked();
            // Room for the larger header the record may need; CommitRecord moves a short record down when it needs less.
            var reserve = WebSocketFraming.ServerHeaderSize(maxLength);
            EnsureRoomLocked(reserve + maxLength, batch: true);
            _windowOpen = true;
            _windowReserve = reserve;
            _windowMax = maxLength;
            return _segment.AsSpan(_segmentLength + reserve, maxLength);
        }
    }

    /// <inheritdoc />
    public void CommitRecord(int length)
    {
        lock (_gate)
        {
            if (!_windowOpen)
            {
                throw new InvalidOperationException("no record to commit: call GetRecordSpan first");
            }

            _windowOpen = false;
            ArgumentOutOfRangeException.ThrowIfNegative(length);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _windowMax);
            if (length == 0)
            {
                return;
            }

            var frame = _segment.AsSpan(_segmentLength);
            var header = WebSocketFraming.ServerHeaderSize(length);
            if (header < _windowReserve)
            {
                // Browsers reject non-minimal lengths (RFC 6455 §5.2): close the gap left for a 4-byte header.
                frame.Slice(_windowReserve, length).CopyTo(frame[header..]);
            }

            WebSocketFraming.WriteServerHeader(frame, WebSocketFraming.OpBinary, length);
            _segmentLength += header + length;
            _pendingBytes += header + length;
        }
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_windowOpen)
            {
                throw new InvalidOperationException("a record is not committed yet");
            }
        }

        try
        {
            await WriteOutAsync(control: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ConnectionClosedException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket send failed: {e.Message}");
        }
    }

    /// <inheritdoc />
    /// <remarks>Frames the record into the send buffer (one copy) and flushes.</remarks>
    public ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
        {
            throw new ArgumentOutOfRangeException(nameof(record), record.Length, $"record exceeds {MaxRecordSize} bytes");
        }

        lock (_gate)
        {
            if (_windowOpen)
            {
                throw new InvalidOperationException("a batched record is not committed yet");
            }

            ThrowIfCannotSendLocked();
            var header = WebSocketFraming.ServerHeaderSize(record.Length);
            EnsureRoomLocked(header + record.Length);
            var frame = _segment.AsSpan(_segmentLength);
            WebSocketFraming.WriteServerHeader(frame, WebSocketFraming.OpBinary, record.Length);
            record.Span.CopyTo(frame[header..]);
            _segmentLength += header + record.Length;
            _pendingBytes += header + record.Length;
        }

        return FlushAsync(cancellationToken);
    }

    private void ThrowIfCannotSendLocked()
    {
        if (_closeState != CloseState.Open)
        {
            throw new ConnectionClosedException(0, "websocket closed locally");
        }

        if (_sendFailed)
        {
            throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket send failed earlier{(_abortReason is { } reason ? $": {reason}" : "")}");
        }
    }

    /// <summary>
    /// Makes sure the current segment has <paramref name="size"/> free bytes, starting a new one if not: a full
    /// <see cref="SegmentSize"/> for batched records, just enough for a lone record or control frame (flushed at once).
    /// </summary>
    private void EnsureRoomLocked(int size, bool batch = false)
    {
        if (_segment.Length - _segmentLength >= size)
        {
            return;
        }

        if (_segmentLength > 0)
        {
            _filled.Add((_segment, _segmentLength));
        }
        else if (_segment.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_segment);
        }

        _segment = ArrayPool<byte>.Shared.Rent(Math.Max(batch ? SegmentSize : MinSegmentSize, size));
        _segmentLength = 0;
    }

    // ------------------------------------------------------------------ control frames

    /// <summary>Queues the Pong for a Ping just received, replacing any Pong not sent yet.</summary>
    private void QueuePong(ReadOnlySpan<byte> payload)
    {
        lock (_gate)
        {
            _pongPayload ??= new byte[WebSocketFraming.MaxControlPayload];
            payload.CopyTo(_pongPayload);
            _pongLength = payload.Length;
        }

        ScheduleControlFlush();
    }

    private void QueuePing()
    {
        lock (_gate)
        {
            _pingPending = true;
        }

        ScheduleControlFlush();
    }

    /// <summary>Queues our Close frame once; later calls (and any data after it) are refused or ignored.</summary>
    private void QueueClose(WebSocketCloseStatus status, string reason)
    {
        lock (_gate)
        {
            if (_closeState != CloseState.Open)
            {
                return;
            }

            _closeState = CloseState.Queued;
            _closeStatus = (ushort)status;
            _closeReason = new byte[MaxCloseReasonBytes];
            // Whole characters only, so a cut reason stays valid UTF-8.
            Utf8.FromUtf16(reason, _closeReason, out _, out _closeReasonLength, replaceInvalidSequences: true, isFinalBlock: true);
            _closeWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_sendFailed)
            {
                // Nothing can be written any more: do not make anyone wait for it.
                _closeState = CloseState.Emitted;
                _closeWritten.TrySetResult();
                return;
            }
        }

        ScheduleControlFlush();
    }

    /// <summary>Waits until our Close frame was written; aborts the connection when that takes too long.</summary>
    private async Task WaitForCloseFrameAsync()
    {
        Task? written;
        lock (_gate)
        {
            written = _closeWritten?.Task;
        }

        if (written is null)
        {
            return;
        }

        try
        {
            await written.WaitAsync(CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Abort("the close frame could not be sent in time");
        }
    }

    /// <summary>
    /// Gets pending control frames written when no data flush will do it: the data writer picks them up itself when it
    /// is inside a record or a flush (it always flushes after committing).
    /// </summary>
    private void ScheduleControlFlush()
    {
        lock (_gate)
        {
            if (_flushOwner || _windowOpen || _sendFailed)
            {
                return;
            }

            _flushOwner = true;
        }

        _ = ControlFlushAsync();
    }

    private async Task ControlFlushAsync()
    {
        try
        {
            await WriteOutAsync(control: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Recorded in _sendFailed and the connection aborted: the receive side and the next send report it.
        }
    }

    /// <summary>Appends the pending Pong, Ping and Close frames (in that order; nothing after Close). True when Close was appended.</summary>
    private bool EmitControlLocked()
    {
        if (_closeState == CloseState.Emitted)
        {
            _pongLength = -1;
            _pingPending = false;
            return false;
        }

        if (_pongLength >= 0)
        {
            EnsureRoomLocked(2 + _pongLength);
            var frame = _segment.AsSpan(_segmentLength);
            WebSocketFraming.WriteServerHeader(frame, WebSocketFraming.OpPong, _pongLength);
            _pongPayload.AsSpan(0, _pongLength).CopyTo(frame[2..]);
            _segmentLength += 2 + _pongLength;
            _pongLength = -1;
        }

        if (_pingPending)
        {
            EnsureRoomLocked(2);
            WebSocketFraming.WriteServerHeader(_segment.AsSpan(_segmentLength), WebSocketFraming.OpPing, 0);
            _segmentLength += 2;
            _pingPending = false;
        }

        if (_closeState != CloseState.Queued)
        {
            return false;
        }

        var payload = 2 + _closeReasonLength;
        EnsureRoomLocked(2 + payload);
        var close = _segment.AsSpan(_segmentLength);
        WebSocketFraming.WriteServerHeader(close, WebSocketFraming.OpClose, payload);
        BinaryPrimitives.WriteUInt16BigEndian(close[2..], _closeStatus);
        _closeReason.AsSpan(0, _closeReasonLength).CopyTo(close[4..]);
        _segmentLength += 2 + payload;
        _closeState = CloseState.Emitted;
        return true;
    }

    // ------------------------------------------------------------------ writing

    /// <summary>
    /// Writes everything buffered (records, then pending control frames) to the upgrade stream, repeating while
    /// control frames arrive during the write. One stream write per segment; each is one flush of Kestrel's output,
    /// which waits while Kestrel's buffer is full.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteOutAsync(bool control, CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                bool closeInBatch;
                lock (_gate)
                {
                    if (_sendFailed)
                    {
                        _flushOwner = false;
                        throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket send failed earlier{(_abortReason is { } reason ? $": {reason}" : "")}");
                    }

                    if (_windowOpen)
                    {
                        _flushOwner = false;
                        // The data writer is inside a record and flushes after it; its own flush must not come first.
                        if (!control)
                        {
                            throw new InvalidOperationException("a record is not committed yet");
                        }

                        return;
                    }

                    closeInBatch = EmitControlLocked();
                    if (_segmentLength == 0 && _filled.Count == 0)
                    {
                        // Nothing to write: an idle session keeps no send buffer.
                        if (_segment.Length > 0)
                        {
                            ArrayPool<byte>.Shared.Return(_segment);
                            _segment = [];
                        }

                        _flushOwner = false;
                        return;
                    }

                    // Control frames queued from now on are written by this loop's next round.
                    _flushOwner = true;
                    if (_segmentLength > 0)
                    {
                        _filled.Add((_segment, _segmentLength));
                        _segment = [];
                        _segmentLength = 0;
                    }

                    (_writing, _filled) = (_filled, _writing);
                    _pendingBytes = 0;
                }

                try
                {
                    for (var i = 0; i < _writing.Count; i++)
                    {
                        var (buffer, length) = _writing[i];
                        await _stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    }

                    // Kestrel drops writes to a connection that is gone without failing them: say so here, or a session
                    // would keep composing records for a dead peer until its reader noticed.
                    if (_connectionAborted.IsCancellationRequested)
                    {
                        throw new IOException("the connection was closed");
                    }
                }
                catch (Exception e)
                {
                    ReturnWriting();
                    // A frame may be cut short on the wire: the connection is unusable.
                    Abort($"send failed: {e.Message}");
                    lock (_gate)
                    {
                        _flushOwner = false;
                    }

                    throw;
                }

                ReturnWriting();
                if (closeInBatch)
                {
                    _closeWritten!.TrySetResult();
                }
            }
        }
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>Gives the written segments back; only the flush lock holder touches <see cref="_writing"/>.</summary>
    private void ReturnWriting()
    {
        foreach (var (buffer, _) in _writing)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _writing.Clear();
    }

    /// <summary>After disposal: returns buffered segments unless a write or a record window still uses them.</summary>
    private void ReleaseSendBuffers()
    {
        if (!_flushLock.Wait(0))
        {
            return; // a stuck write still owns them; the collector takes them
        }

        lock (_gate)
        {
            _sendFailed = true;
            if (!_windowOpen)
            {
                foreach (var (buffer, _) in _filled)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                _filled.Clear();
                if (_segment.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(_segment);
                }

                _segment = [];
                _segmentLength = 0;
            }
        }

        _flushLock.Release();
    }
}
