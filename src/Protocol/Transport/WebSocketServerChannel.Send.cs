using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace MoqCluster.Protocol.Transport;

public sealed partial class WebSocketServerChannel
{
    /// <summary>
    /// First size of the spill buffer (records composed while a control-frame flush holds the output): a whole QMux
    /// batch (64 KiB of records plus the one that crossed the mark). It grows if a batch ever needs more.
    /// </summary>
    private const int SpillSize = 96 * 1024;

    private const int MaxCloseReasonBytes = WebSocketFraming.MaxCloseReasonBytes;

    // Guards the window, the spill and the control-frame state. Held only for short synchronous work, never across an
    // await; the output's GetMemory/Advance are called under it (they do not block).
    private readonly object _gate = new();
    // Held by whoever uses the output PipeWriter (memory, advance, flush): a PipeWriter takes one writer at a time and
    // one flush at a time. The data writer takes it without waiting when it opens a batch and keeps it until its flush
    // ends, so a batch is composed straight into the output's memory.
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    // The data writer holds _flushLock for its current batch.
    private bool _dataHoldsOutput;
    // A record window is open between GetRecordSpan and CommitRecord: _window is the output's memory or the spill's.
    private bool _windowOpen;
    private bool _windowInSpill;
    // The window is a pooled buffer of ours, copied into the output at commit: a window larger than a block of the
    // connection's pool would make the output pipe rent it outside that pool (ArrayPool, which runs dry with many busy
    // connections, and then allocates per flush). One copy per record is far cheaper than that churn.
    private bool _windowAside;
    private byte[] _aside = [];
    private readonly int _poolBlock;
    private Memory<byte> _window;
    private int _windowReserve;
    private int _windowMax;
    // Records committed while the output was held by a control-frame flush; written out, in order, by the next holder.
    private byte[] _spill = [];
    private int _spillLength;
    // Record bytes committed and not flushed yet (output and spill), and bytes advanced in the output and not flushed.
    private int _pendingBytes;
    private int _unflushed;
    // True while some holder of the output will still look at the pending control frames before it lets the lock go.
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

    private bool ControlPendingLocked => _pongLength >= 0 || _pingPending || _closeState == CloseState.Queued;

    /// <inheritdoc />
    public int PendingBytes => Volatile.Read(ref _pendingBytes);

    /// <inheritdoc />
    /// <remarks>The span is the connection's output memory itself unless a control-frame flush holds the output at
    /// that moment (then a spill buffer, copied out by the next flush).</remarks>
    public Span<byte> GetRecordSpan(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, MaxRecordSize);
        Exception refusal;
        var handOver = false;
        lock (_gate)
        {
            if (_windowOpen)
            {
                throw new InvalidOperationException("the previous record was not committed");
            }

            if (CannotSendLocked() is not { } cannot)
            {
                return OpenWindowLocked(maxLength);
            }

            refusal = cannot;
            // The batch ends here without a flush of its own: let the output go, so the records it committed and
            // our Close (when that is why) still go out, and disposal does not wait for a lock no one will release.
            if (_dataHoldsOutput)
            {
                handOver = ReleaseDataHoldLocked();
            }
        }

        if (handOver)
        {
            _ = ControlFlushAsync(held: true);
        }

        throw refusal;
    }

    /// <summary>Opens the record window in the output's memory when the output is free (or already the batch's), else in the spill.</summary>
    private Span<byte> OpenWindowLocked(int maxLength)
    {
        // Room for the larger header the record may need; CommitRecord moves a short record down when it needs less.
        var reserve = WebSocketFraming.ServerHeaderSize(maxLength);
        var size = reserve + maxLength;
        // Spilled records go out first, so once a batch spills it keeps spilling until its flush.
        if (!_dataHoldsOutput && _spillLength == 0 && _flushLock.Wait(0))
        {
            _dataHoldsOutput = true;
            _flushOwner = true;
        }

        _windowAside = false;
        if (_dataHoldsOutput && size > _poolBlock)
        {
            if (_aside.Length < size)
            {
                ReturnAsideLocked();
                _aside = ArrayPool<byte>.Shared.Rent(size);
            }

            _window = _aside;
            _windowAside = true;
            _windowInSpill = false;
        }
        else if (_dataHoldsOutput)
        {
            try
            {
                _window = _output.GetMemory(size);
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                // The output was completed under us (the connection is ending).
                _sendFailed = true;
                ReleaseDataHoldLocked(); // nothing more is written: it just releases
                throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket send failed: {e.Message}");
            }

            _windowInSpill = false;
        }
        else
        {
            EnsureSpillRoomLocked(size);
            _window = _spill.AsMemory(_spillLength);
            _windowInSpill = true;
        }

        _windowOpen = true;
        _windowReserve = reserve;
        _windowMax = maxLength;
        return _window.Span.Slice(reserve, maxLength);
    }

    /// <inheritdoc />
    public void CommitRecord(int length) => Commit(length, emptyIsRecord: false);

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        bool held;
        lock (_gate)
        {
            if (_windowOpen)
            {
                throw new InvalidOperationException("a record is not committed yet");
            }

            // The batch is composed: an idle session keeps no buffer aside.
            ReturnAsideLocked();
            // From here on the batch's hold (if any) is this flush's: it lets the lock go when it is done.
            held = _dataHoldsOutput;
            _dataHoldsOutput = false;
        }

        try
        {
            await WriteOutAsync(held, control: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ConnectionClosedException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket send failed: {e.Message}");
        }
    }

    /// <inheritdoc />
    /// <remarks>Frames the record into the output (one copy) and flushes.</remarks>
    public ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
        {
            throw new ArgumentOutOfRangeException(nameof(record), record.Length, $"record exceeds {MaxRecordSize} bytes");
        }

        record.Span.CopyTo(GetRecordSpan(record.Length));
        // An empty record is still a message here (the batch path's 0 means "nothing").
        Commit(record.Length, emptyIsRecord: true);
        return FlushAsync(cancellationToken);
    }

    private void Commit(int length, bool emptyIsRecord)
    {
        var handOver = false;
        var reschedule = false;
        lock (_gate)
        {
            if (!_windowOpen)
            {
                throw new InvalidOperationException("no record to commit: call GetRecordSpan first");
            }

            _windowOpen = false;
            ArgumentOutOfRangeException.ThrowIfNegative(length);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _windowMax);
            if (length == 0 && !emptyIsRecord)
            {
                _window = default;
                if (_pendingBytes == 0)
                {
                    ReturnAsideLocked();
                    // Nothing in this batch, so no flush follows: let the output go, and get control frames that were
                    // left to the data writer (it held the output, or a control flush stepped aside for the window) out.
                    if (_dataHoldsOutput)
                    {
                        handOver = ReleaseDataHoldLocked();
                    }
                    else
                    {
                        reschedule = ControlPendingLocked;
                    }
                }
            }
            else
            {
                CommitLocked(length);
            }
        }

        if (handOver)
        {
            _ = ControlFlushAsync(held: true);
        }
        else if (reschedule)
        {
            ScheduleControlFlush();
        }
    }

    /// <summary>Frames the open window's record and counts it as pending.</summary>
    private void CommitLocked(int length)
    {
        var frame = _window.Span;
        _window = default;
        var header = WebSocketFraming.ServerHeaderSize(length);
        if (header < _windowReserve)
        {
            // Browsers reject non-minimal lengths (RFC 6455 §5.2): close the gap left for a 4-byte header.
            frame.Slice(_windowReserve, length).CopyTo(frame[header..]);
        }

        WebSocketFraming.WriteServerHeader(frame, WebSocketFraming.OpBinary, length);
        var size = header + length;
        if (_windowInSpill)
        {
            _spillLength += size;
        }
        else if (_windowAside)
        {
            _windowAside = false;
            _output.Write(frame[..size]);
            _unflushed += size;
        }
        else
        {
            _output.Advance(size);
            _unflushed += size;
        }

        _pendingBytes += size;
    }

    /// <summary>
    /// Ends the data writer's hold on the output when no flush of its own follows. True when control frames are waiting
    /// (they were left to the holder): the caller then hands the lock to a control-frame flush, outside the gate.
    /// Otherwise the lock is released.
    /// </summary>
    private bool ReleaseDataHoldLocked()
    {
        _dataHoldsOutput = false;
        if (ControlPendingLocked && !_sendFailed)
        {
            _flushOwner = true;
            return true;
        }

        _flushOwner = false;
        _flushLock.Release();
        return false;
    }

    /// <summary>Why no record may be sent any more (closing, or a failed send); null while sending is allowed.</summary>
    private ConnectionClosedException? CannotSendLocked() =>
        _closeState != CloseState.Open ? new ConnectionClosedException(0, "websocket closed locally")
        : _sendFailed ? new ConnectionClosedException(MoqErrorCodeTransport, $"websocket send failed earlier{(_abortReason is { } reason ? $": {reason}" : "")}")
        : null;

    /// <summary>Makes sure the spill has <paramref name="size"/> free bytes, keeping what it holds.</summary>
    private void EnsureSpillRoomLocked(int size)
    {
        if (_spill.Length - _spillLength >= size)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(SpillSize, Math.Max(_spill.Length * 2, _spillLength + size)));
        _spill.AsSpan(0, _spillLength).CopyTo(grown);
        ReturnSpillLocked();
        _spill = grown;
    }

    private void ReturnAsideLocked()
    {
        if (_aside.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_aside);
        }

        _aside = [];
    }

    private void ReturnSpillLocked()
    {
        if (_spill.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_spill);
        }

        _spill = [];
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
    /// holds the output or is inside a record (it always flushes after committing).
    /// </summary>
    private void ScheduleControlFlush()
    {
        lock (_gate)
        {
            if (_flushOwner || _dataHoldsOutput || _windowOpen || _sendFailed)
            {
                return;
            }

            _flushOwner = true;
        }

        _ = ControlFlushAsync(held: false);
    }

    private async Task ControlFlushAsync(bool held)
    {
        try
        {
            await WriteOutAsync(held, control: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Recorded in _sendFailed and the connection aborted: the receive side and the next send report it.
        }
    }

    /// <summary>Writes the pending Pong, Ping and Close frames (in that order; nothing after Close) into the output. True when Close was written.</summary>
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
            var frame = _output.GetSpan(2 + _pongLength);
            WebSocketFraming.WriteServerHeader(frame, WebSocketFraming.OpPong, _pongLength);
            _pongPayload.AsSpan(0, _pongLength).CopyTo(frame[2..]);
            Advance(2 + _pongLength);
            _pongLength = -1;
        }

        if (_pingPending)
        {
            WebSocketFraming.WriteServerHeader(_output.GetSpan(2), WebSocketFraming.OpPing, 0);
            Advance(2);
            _pingPending = false;
        }

        if (_closeState != CloseState.Queued)
        {
            return false;
        }

        var payload = 2 + _closeReasonLength;
        var close = _output.GetSpan(2 + payload);
        WebSocketFraming.WriteServerHeader(close, WebSocketFraming.OpClose, payload);
        BinaryPrimitives.WriteUInt16BigEndian(close[2..], _closeStatus);
        _closeReason.AsSpan(0, _closeReasonLength).CopyTo(close[4..]);
        Advance(2 + payload);
        _closeState = CloseState.Emitted;
        return true;

        void Advance(int bytes)
        {
            _output.Advance(bytes);
            _unflushed += bytes;
        }
    }

    // ------------------------------------------------------------------ writing

    /// <summary>
    /// Flushes everything committed (spilled records first, then pending control frames), repeating while control
    /// frames arrive during a flush. The flush waits while the connection's output is over its limit (Kestrel's
    /// transport or TLS pipe), which is the session's backpressure.
    /// </summary>
    /// <param name="held">The caller already holds <see cref="_flushLock"/> (the data writer's batch, or a hand-over).</param>
    /// <param name="control">A control-frame flush: it steps aside while the data writer is inside a record.</param>
    /// <param name="cancellationToken">Cancels the wait for the lock and the flush (the connection is aborted then).</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteOutAsync(bool held, bool control, CancellationToken cancellationToken)
    {
        if (!held)
        {
            await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

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
                        // Only a control flush gets here (the data writer composes into the spill while we hold the
                        // output); the data writer flushes after its record and writes what is pending then.
                        _flushOwner = false;
                        if (!control)
                        {
                            throw new InvalidOperationException("a record is not committed yet");
                        }

                        return;
                    }

                    if (_spillLength > 0)
                    {
                        // Records composed while the output was busy, before any control frame queued after them.
                        _output.Write(_spill.AsSpan(0, _spillLength));
                        _unflushed += _spillLength;
                        _spillLength = 0;
                        ReturnSpillLocked();
                    }

                    closeInBatch = EmitControlLocked();
                    if (_unflushed == 0)
                    {
                        _flushOwner = false;
                        return;
                    }

                    // Control frames queued from now on are written by this loop's next round.
                    _flushOwner = true;
                    _unflushed = 0;
                    _pendingBytes = 0;
                }

                try
                {
                    var result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    // A completed output means the connection is gone; Kestrel also drops writes to a connection that
                    // is gone without failing them: say so here, or a session would keep composing records for a dead
                    // peer until its reader noticed. (A cancelled flush still committed its bytes: nothing to redo.)
                    if (result.IsCompleted || _connectionAborted.IsCancellationRequested)
                    {
                        throw new IOException("the connection was closed");
                    }
                }
                catch (Exception e)
                {
                    // A frame may be cut short on the wire: the connection is unusable.
                    Abort($"send failed: {e.Message}");
                    lock (_gate)
                    {
                        _flushOwner = false;
                    }

                    throw;
                }

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

    /// <summary>
    /// After disposal: waits (bounded) until no one writes to the output, so nothing touches the connection once the
    /// request may end, then returns the spill and completes the output when it is ours.
    /// </summary>
    private async Task ReleaseSendSideAsync()
    {
        bool acquired;
        try
        {
            acquired = await _flushLock.WaitAsync(CloseTimeout).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        if (!acquired)
        {
            // A holder is stuck (a data writer that never committed): it keeps the buffers; the collector takes them.
            lock (_gate)
            {
                _sendFailed = true;
            }

            return;
        }

        lock (_gate)
        {
            _sendFailed = true;
            if (!_windowOpen)
            {
                _spillLength = 0;
                ReturnSpillLocked();
                ReturnAsideLocked();
            }
        }

        if (_ownsPipes)
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }

        _flushLock.Release();
    }
}
