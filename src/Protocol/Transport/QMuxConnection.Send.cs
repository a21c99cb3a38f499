using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using System.Text;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

public sealed partial class QMuxConnection
{
    /// <summary>
    /// How many bytes of records one flush may carry over an <see cref="IRecordBatchWriter"/>: enough to turn a burst
    /// into a few large writes, small enough that one busy session does not hold the socket for long.
    /// </summary>
    private const int BatchBytes = 64 * 1024;

    /// <summary>Room kept free for one control frame (type + three 8-byte varints).</summary>
    private const int ControlFrameRoom = 32;

    // Rented while the writer has something to send and returned when it goes idle: an idle session holds none.
    private readonly int _recordCapacity;
    private byte[] _record = [];
    private readonly Queue<ControlFrame> _control = new();
    private readonly PriorityQueue<QMuxStream, SendRank> _ready = new(SendRank.Comparer);
    private readonly List<QMuxStream> _connBlocked = [];
    private readonly WriterSignal _wake = new();
    private long _readySequence;
    private bool _parametersSent;

    private enum ControlKind { ResetStream, StopSending, MaxStreamData, PingResponse }

    private readonly record struct ControlFrame(ControlKind Kind, long StreamId, ulong Code, long Value);

    /// <summary>Ready-queue order: higher <see cref="ISendStream.SendOrder"/> first, then first come first served.</summary>
    private readonly record struct SendRank(long SendOrder, long Sequence)
    {
        public static readonly IComparer<SendRank> Comparer = Comparer<SendRank>.Create(static (a, b) =>
            a.SendOrder != b.SendOrder ? b.SendOrder.CompareTo(a.SendOrder) : a.Sequence.CompareTo(b.Sequence));
    }

    /// <summary>Whether the writer loop is parked with nothing to send (tests wait for it).</summary>
    internal bool WriterParked => _wake.IsWaiting;

    /// <summary>Wakes the writer on the thread pool; safe under <see cref="_sync"/>.</summary>
    private void WakeWriter() => _wake.Signal();

    // ------------------------------------------------------------------ application calls

    internal ValueTask WriteAsync(QMuxStream stream, ReadOnlyMemory<byte> data, bool fin, CancellationToken cancellationToken) =>
        WriteAsync(stream, default, data, fin, shared: false, owner: null, cancellationToken);

    /// <summary>
    /// Queues <paramref name="data"/> like <see cref="WriteAsync(QMuxStream, ReadOnlyMemory{byte}, bool, CancellationToken)"/>;
    /// with <paramref name="shared"/> the bytes are queued by reference (the caller promises they never change).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteAsync(QMuxStream stream, ReadOnlyMemory<byte> prefix, ReadOnlyMemory<byte> data, bool fin, bool shared, ISharedPayloadOwner? owner, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task? wait;
            lock (_sync)
            {
                ThrowIfClosed();
                if (stream.ResetCode is ulong code)
                {
                    throw new StreamAbortedException(code, stream.StoppedByPeer
                        ? $"peer sent STOP_SENDING ({code}) on stream {stream.Id}"
                        : $"stream {stream.Id} was reset ({code})");
                }
                if (stream.FinQueued)
                    throw new InvalidOperationException($"stream {stream.Id} is already finished");
                if (data.IsEmpty && prefix.IsEmpty && !fin)
                    return;
                if (data.IsEmpty || stream.SendBuffer.Length < _options.SendBufferSize)
                {
                    if (shared)
                        stream.SendBuffer.AppendShared(prefix.Span, data, owner);
                    else
                        stream.SendBuffer.Append(data.Span);
                    stream.FinQueued = fin;
                    MarkReady(stream);
                    wait = null;
                }
                else
                {
                    stream.DrainWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = stream.DrainWaiter.Task;
                }
            }
            if (wait is null)
            {
                // Outside the lock, so the writer may run right here: an idle session sends this write on the
                // caller's thread with no hand-off; a busy one just finds it in its next batch.
                _wake.Signal(inline: true);
                return;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal void ResetStream(QMuxStream stream, ulong code)
    {
        lock (_sync)
        {
            if (_closeInfo is not null || stream.SendDone)
                return;
            ResetSendLocked(stream, code);
        }
    }

    /// <summary>Abandons the send half and queues RESET_STREAM with final size = bytes sent (spec §2.3.4 item 4).</summary>
    private void ResetSendLocked(QMuxStream stream, ulong code)
    {
        stream.ResetCode = code;
        stream.SendBuffer.Clear();
        _control.Enqueue(new ControlFrame(ControlKind.ResetStream, stream.Id, code, stream.SendOffset));
        Release(stream.DrainWaiter);
        stream.DrainWaiter = null;
        OnSendDone(stream);
        WakeWriter();
    }

    private void OnSendDone(QMuxStream stream)
    {
        stream.SendDone = true;
        // Everything it queued is sent or dropped: the payloads' owner may recycle them.
        stream.ReleaseSendOwner();
        TryRemove(stream);
    }

    /// <summary>Puts a stream with something to send in the ready queue. Caller holds the lock.</summary>
    private void MarkReady(QMuxStream stream)
    {
        if (stream.Queued || stream.SendDone || _closeInfo is not null)
            return;
        stream.Queued = true;
        _ready.Enqueue(stream, new SendRank(stream.SendOrder, _readySequence++));
    }

    private bool TryPopReady(out QMuxStream stream, out SendRank rank)
    {
        while (_ready.TryDequeue(out stream!, out rank))
        {
            // SendOrder may have changed while queued: re-rank lazily.
            if (rank.SendOrder != stream.SendOrder)
            {
                _ready.Enqueue(stream, rank with { SendOrder = stream.SendOrder });
                continue;
            }
            stream.Queued = false;
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ writer loop

    /// <summary>
    /// The only code that sends on the channel, control frames first. Over an <see cref="IRecordBatchWriter"/> it
    /// composes every record that is ready (up to <see cref="BatchBytes"/>) straight into the channel's memory and
    /// flushes once; otherwise it sends one record at a time from a pooled buffer.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var batch = _channel as IRecordBatchWriter;
        try
        {
            while (true)
            {
                int length;
                bool last;
                if (batch is not null)
                {
                    do
                    {
                        bool open;
                        lock (_sync)
                        {
                            // No record window when there is nothing to send: a window may take output memory (a
                            // pipe segment the channel cannot give back unused), and an idle session must hold none.
                            open = HasSendWork;
                            last = false;
                            length = open ? ComposeRecord(batch.GetRecordSpan(RecordWindow()), out last) : 0;
                        }
                        if (open)
                            batch.CommitRecord(length);
                    }
                    while (length > 0 && !last && batch.PendingBytes < BatchBytes);
                    if (batch.PendingBytes > 0)
                        await batch.FlushAsync(_sendAbort.Token).ConfigureAwait(false);
                }
                else
                {
                    if (_record.Length == 0)
                        _record = ArrayPool<byte>.Shared.Rent(_recordCapacity);
                    lock (_sync)
                        length = ComposeRecord(_record.AsSpan(0, RecordLimit), out last);
                    if (length > 0)
                        await _channel.SendAsync(_record.AsMemory(0, length), _sendAbort.Token).ConfigureAwait(false);
                }
                if (last)
                    break;
                if (length == 0)
                {
                    ReturnRecord();
                    await _wake.WaitAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionClosedException or ObjectDisposedException
                                       or System.Net.WebSockets.WebSocketException or InvalidOperationException)
        {
            // A failed send may still have the buffer in a transport's hands: leave it to the collector.
            _record = [];
            CloseCore(new ConnectionCloseInfo((ulong)MoqErrorCode.Transport, $"send failed: {ex.Message}", ByPeer: true), sendCloseFrame: false, 0);
        }
        catch (Exception ex)
        {
            _record = [];
            _logger.LogError(ex, "{Transport}: writer failed", TransportName);
            CloseCore(new ConnectionCloseInfo(QMuxTransportError.InternalError, ex.Message, ByPeer: false), sendCloseFrame: false, 0);
        }

        ReturnRecord();
        var info = _closeInfo!;
        try
        {
            await _channel.CloseAsync(info.Code, info.Reason).AsTask().WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The channel is already gone or the peer stopped answering; DisposeAsync tears it down.
        }
        // A peer that never closes its side must not keep the reader alive forever.
        try { _receiveAbort.CancelAfter(_options.CloseTimeout); } catch (ObjectDisposedException) { }
    }

    /// <summary>Gives the record buffer back; only the writer loop touches it, and not while a send is in flight.</summary>
    private void ReturnRecord()
    {
        var record = _record;
        _record = [];
        if (record.Length > 0)
            ArrayPool<byte>.Shared.Return(record);
    }

    /// <summary>Fills <paramref name="span"/> (at most <see cref="RecordLimit"/> bytes of it) with the next record; 0 when there is nothing to send.</summary>
    private int ComposeRecord(Span<byte> span, out bool last)
    {
        last = false;
        span = span[..Math.Min(span.Length, RecordLimit)];
        if (_closeInfo is { } info)
        {
            last = true;
            if (!_sendCloseFrame)
                return 0;
            _sendCloseFrame = false;
            var reason = Encoding.UTF8.GetBytes(info.Reason);
            int reasonLength = Math.Min(reason.Length, Math.Min(QMuxFrameCodec.MaxReasonBytes, span.Length - ControlFrameRoom));
            return QMuxFrameCodec.WriteClose(span, _format, info.Code, _closeFrameType, reason.AsSpan(0, reasonLength));
        }

        bool multi = IsMultiFrame;
        int n = 0;
        if (FlowControlled && !_parametersSent)
        {
            _parametersSent = true;
            n = QMuxFrameCodec.WriteTransportParameters(span, QMuxTransportParameters.FromOptions(_options, _format));
            if (!multi)
                return n;
        }
        n = AppendControlFrames(span, n, multi);
        if (n > 0 && !multi)
            return n;
        return AppendStreamFrames(span, n, multi);
    }

    /// <summary>
    /// Whether <see cref="ComposeRecord"/> may have something to write (it can still find nothing: a ready stream that
    /// ended or ran out of credit). True once the connection is closing, so the writer sees <c>last</c>. Under <see cref="_sync"/>.
    /// </summary>
    private bool HasSendWork =>
        _closeInfo is not null || (FlowControlled && !_parametersSent) || _maxDataPending
        || _maxStreamsPending[Bidi] || _maxStreamsPending[Uni] || _control.Count > 0 || _ready.Count > 0;

    /// <summary>Largest record we may send now: the channel's, the peer's max_record_size, 16 384.</summary>
    private int RecordLimit => Math.Min(_recordCapacity, _peerRecordLimit);

    /// <summary>Most STREAM frame header bytes: type and three 8-byte varints.</summary>
    private const int MaxStreamHeaderSize = 25;

    /// <summary>
    /// The record window to ask a batching channel for: what is queued now (every ready stream's bytes and a header
    /// each, the pending control frames), at most <see cref="RecordLimit"/>. A WebSocket channel composes a window that
    /// fits a block of its connection's pool in the output itself and copies a larger one in, so a 1 KB frame must not
    /// ask for 16 KiB. An overestimate only costs that copy; an underestimate, one more record. Under <see cref="_sync"/>.
    /// </summary>
    private int RecordWindow()
    {
        int limit = RecordLimit;
        if (_closeInfo is not null || (FlowControlled && !_parametersSent))
            return limit;
        long want = _control.Count * ControlFrameRoom;
        if (_maxDataPending)
            want += ControlFrameRoom;
        if (_maxStreamsPending[Bidi])
            want += ControlFrameRoom;
        if (_maxStreamsPending[Uni])
            want += ControlFrameRoom;
        foreach (var (stream, _) in _ready.UnorderedItems)
        {
            want += MaxStreamHeaderSize + stream.SendBuffer.Length;
            if (want >= limit)
                return limit;
        }
        return (int)Math.Max(want, ControlFrameRoom);
    }

    private int AppendControlFrames(Span<byte> span, int n, bool multi)
    {
        while (span.Length - n >= ControlFrameRoom && (multi || n == 0))
        {
            if (_maxDataPending)
            {
                _maxDataPending = false;
                n += QMuxFrameCodec.WriteMaxData(span[n..], _connRecvMax);
            }
            else if (_maxStreamsPending[Bidi])
            {
                _maxStreamsPending[Bidi] = false;
                _announcedMaxStreams[Bidi] = _localMaxStreams[Bidi];
                n += QMuxFrameCodec.WriteMaxStreams(span[n..], bidi: true, _localMaxStreams[Bidi]);
            }
            else if (_maxStreamsPending[Uni])
            {
                _maxStreamsPending[Uni] = false;
                _announcedMaxStreams[Uni] = _localMaxStreams[Uni];
                n += QMuxFrameCodec.WriteMaxStreams(span[n..], bidi: false, _localMaxStreams[Uni]);
            }
            else if (_control.TryDequeue(out var frame))
            {
                n += frame.Kind switch
                {
                    ControlKind.ResetStream => QMuxFrameCodec.WriteResetStream(span[n..], _format, frame.StreamId, frame.Code, frame.Value),
                    ControlKind.StopSending => QMuxFrameCodec.WriteStopSending(span[n..], frame.StreamId, frame.Code),
                    ControlKind.MaxStreamData => QMuxFrameCodec.WriteMaxStreamData(span[n..], frame.StreamId, frame.Value),
                    _ => QMuxFrameCodec.WritePing(span[n..], response: true, frame.Code),
                };
            }
            else
            {
                break;
            }
        }
        return n;
    }

    private int AppendStreamFrames(Span<byte> span, int n, bool multi)
    {
        // @moq/qmux 0.0.6 (@moq/lite 0.2.2) kills the session on a STREAM payload over 16 360 bytes in the legacy
        // and qmux-00 formats alike; 0.3.3 only bounds the record, which qmux-01/02 records already respect.
        int payloadCap = _format is QMuxWireFormat.Legacy or QMuxWireFormat.Qmux00 ? QMuxFrameCodec.LegacyMaxStreamPayload : int.MaxValue;
        while (multi || n == 0)
        {
            if (!TryPopReady(out var stream, out var rank))
                break;
            if (stream.SendDone)
                continue;

            long available = stream.SendBuffer.Length;
            long credit = Math.Min(stream.SendMax - stream.SendOffset, _connSendMax - _connSent);
            int room = span.Length - n;
            int payloadRoom = Math.Min(payloadCap, room - QMuxFrameCodec.StreamHeaderSize(_format, stream.Id, stream.SendOffset, room));
            int take = (int)Math.Max(0, Math.Min(Math.Min(available, credit), payloadRoom));
            bool fin = stream.FinQueued && take == available;

            if (payloadRoom < (available > 0 ? 1 : 0) || payloadRoom < 0)
            {
                // The record is full: keep the stream's place for the next record.
                stream.Queued = true;
                _ready.Enqueue(stream, rank);
                break;
            }
            if (take == 0 && !fin)
            {
                if (available > 0 && stream.SendMax - stream.SendOffset > 0)
                {
                    // Waiting on connection credit: parked until MAX_DATA.
                    stream.Queued = true;
                    _connBlocked.Add(stream);
                }
                // Otherwise waiting on stream credit: MAX_STREAM_DATA marks it ready again.
                continue;
            }

            n += QMuxFrameCodec.WriteStreamHeader(span[n..], _format, stream.Id, stream.SendOffset, take, fin);
            stream.SendBuffer.Read(span.Slice(n, take));
            n += take;
            stream.SendOffset += take;
            _connSent += take;

            if (stream.DrainWaiter is not null && stream.SendBuffer.Length < _options.SendBufferSize)
            {
                Release(stream.DrainWaiter);
                stream.DrainWaiter = null;
            }
            if (fin)
            {
                stream.FinSent = true;
                OnSendDone(stream);
            }
            else if (stream.SendBuffer.Length > 0)
            {
                MarkReady(stream); // back of its priority class: round robin between equals
            }
        }
        return n;
    }
}
