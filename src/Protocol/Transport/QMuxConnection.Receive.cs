using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

public sealed partial class QMuxConnection
{
    // ------------------------------------------------------------------ reader loop

    /// <summary>
    /// Input handled in one <see cref="SendBurst"/> before its writers are let go even though more has arrived: a
    /// firehose publisher must not keep its subscribers waiting, and a subscriber's batch tops out near this anyway.
    /// </summary>
    private const int BurstBytes = 64 * 1024;

    /// <summary>Receives records and dispatches their frames until the channel ends; never throws.</summary>
    private async Task ReadLoopAsync()
    {
        // Started by a direct call (no Task.Run wrapper task per connection): leave the caller at once.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        // Records that have already arrived form one burst: the writers they wake send once, when it ends.
        bool burst = false;
        int burstBytes = 0;
        try
        {
            while (true)
            {
                var receive = _channel.ReceiveAsync(_receiveAbort.Token);
                if (burst && (!receive.IsCompleted || burstBytes >= BurstBytes))
                {
                    // About to wait (or the burst is long enough): what it queued leaves now. A burst never spans a wait.
                    SendBurst.Close();
                    burst = false;
                }
                var record = await receive.ConfigureAwait(false);
                if (!burst)
                {
                    burst = SendBurst.Open();
                    burstBytes = 0;
                }
                if (record is not { } bytes)
                {
                    CloseCore(new ConnectionCloseInfo(0, "transport closed by peer", ByPeer: true), sendCloseFrame: false, 0);
                    return;
                }
                if (_closeInfo is not null)
                    continue; // keep draining until the peer closes its side
                burstBytes += bytes.Length;
                try
                {
                    ProcessRecord(bytes);
                }
                catch (QMuxFrameException error)
                {
                    CloseWithError(error);
                }
            }
        }
        catch (ConnectionClosedException ex)
        {
            // The channel refused the peer's input (e.g. a text WebSocket message): say so if we still can.
            CloseCore(new ConnectionCloseInfo(ex.Code, ex.Message, ByPeer: true), sendCloseFrame: true, 0);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException
                                       or System.Net.WebSockets.WebSocketException or InvalidOperationException)
        {
            CloseCore(new ConnectionCloseInfo((ulong)MoqErrorCode.Transport, $"receive failed: {ex.Message}", ByPeer: true), sendCloseFrame: false, 0);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "{Transport}: reader failed", TransportName);
            CloseCore(new ConnectionCloseInfo(QMuxTransportError.InternalError, ex.Message, ByPeer: false), sendCloseFrame: true, 0);
        }
        finally
        {
            if (burst)
                SendBurst.Close();
        }
    }

    private void ProcessRecord(ReadOnlyMemory<byte> record)
    {
        int limit = IsMultiFrame
            ? (_options.AdvertiseMaxRecordSize == false ? (int)QMuxTransportParameters.DefaultMaxRecordSize : _options.MaxRecordSize)
            : _options.MaxIncomingRecordSize;
        if (record.Length > limit)
            throw new QMuxFrameException(QMuxTransportError.FrameEncodingError, $"record of {record.Length} bytes exceeds {limit}");
        if (record.IsEmpty && _format == QMuxWireFormat.Legacy)
            throw new QMuxFrameException(QMuxTransportError.FrameEncodingError, "empty record");

        int offset = 0;
        while (offset < record.Length)
        {
            offset += QMuxFrameCodec.Decode(record, offset, _format, out var frame);
            bool closed;
            AsyncWaiter? readers;
            (StreamAcceptor? Acceptor, QMuxStream? Stream) handoff;
            lock (_sync)
            {
                closed = _closeInfo is not null;
                if (!closed)
                    Dispatch(in frame);
                readers = _claimedReaders;
                _claimedReaders = null;
                handoff = _acceptHandoff;
                _acceptHandoff = default;
            }
            // Outside the lock: the accept loop and a stream's reader resume right here, on the receive loop, and
            // handle the bytes (a relay parses the frame and hands it to its subscribers) before the next frame.
            handoff.Acceptor?.Complete(handoff.Stream, inline: true);
            WaiterList.CompleteClaimed(readers);
            if (closed || frame.Kind is QMuxFrameKind.ConnectionClose or QMuxFrameKind.ApplicationClose)
            {
                if (frame.Kind is QMuxFrameKind.ConnectionClose or QMuxFrameKind.ApplicationClose)
                    CloseCore(new ConnectionCloseInfo(frame.ErrorCode, frame.Reason ?? "", ByPeer: true), sendCloseFrame: false, 0);
                return;
            }
            // qmux-00 and legacy carry one frame per record; the JS decoders ignore anything after it.
            if (!IsMultiFrame && frame.Kind != QMuxFrameKind.Padding)
                return;
        }
    }

    /// <summary>Applies one frame. Caller holds the lock; protocol violations throw.</summary>
    private void Dispatch(in QMuxFrame frame)
    {
        switch (frame.Kind)
        {
            case QMuxFrameKind.Stream:
                OnStream(frame);
                break;
            case QMuxFrameKind.ResetStream:
                OnResetStream(frame);
                break;
            case QMuxFrameKind.StopSending:
                if (ResolveStream(frame.StreamId, needSend: true, frame.Type) is { } stopped)
                {
                    stopped.CompleteStopped(frame.ErrorCode);
                    // Answer with RESET_STREAM and the same code, unless everything was already sent.
                    if (!stopped.SendDone)
                    {
                        stopped.StoppedByPeer = true;
                        ResetSendLocked(stopped, frame.ErrorCode);
                    }
                }
                break;
            case QMuxFrameKind.MaxData:
                if (frame.Maximum > _connSendMax)
                {
                    _connSendMax = frame.Maximum;
                    UnparkConnectionBlocked();
                }
                break;
            case QMuxFrameKind.MaxStreamData:
                if (ResolveStream(frame.StreamId, needSend: true, frame.Type) is { } credited && frame.Maximum > credited.SendMax)
                {
                    credited.SendMax = frame.Maximum;
                    if (credited.SendBuffer.Length > 0 || credited.FinQueued)
                    {
                        MarkReady(credited);
                        WakeWriter();
                    }
                }
                break;
            case QMuxFrameKind.MaxStreamsBidi:
            case QMuxFrameKind.MaxStreamsUni:
            {
                int direction = frame.Kind == QMuxFrameKind.MaxStreamsBidi ? Bidi : Uni;
                if (frame.Maximum > _peerMaxStreams[direction])
                {
                    _peerMaxStreams[direction] = Math.Min(frame.Maximum, 1L << 60);
                    ServeOpenWaiters(direction);
                }
                break;
            }
            case QMuxFrameKind.TransportParameters:
                OnTransportParameters(frame);
                break;
            case QMuxFrameKind.PingRequest:
                _control.Enqueue(new ControlFrame(ControlKind.PingResponse, 0, frame.Sequence, 0));
                WakeWriter();
                break;
            default:
                // PADDING, *_BLOCKED, QX_PING responses, DATAGRAM: nothing to do. Close frames are
                // handled by the caller outside the lock.
                break;
        }
    }

    private void OnTransportParameters(in QMuxFrame frame)
    {
        if (!FlowControlled || _peerParametersReceived)
            throw new QMuxFrameException(QMuxTransportError.TransportParameterError, "duplicate QX_TRANSPORT_PARAMETERS", frame.Type);
        var p = frame.Parameters!;
        if (p.MaxRecordSize is long size)
        {
            if (size < 64)
                throw new QMuxFrameException(QMuxTransportError.TransportParameterError, $"max_record_size {size} is too small", frame.Type);
            _peerRecordLimit = (int)Math.Min(size, WebSocketRecordLimit);
        }
        _peerParametersReceived = true;
        _connSendMax = Math.Max(_connSendMax, p.InitialMaxData);
        _peerStreamDataBidiLocal = p.InitialMaxStreamDataBidiLocal;
        _peerStreamDataBidiRemote = p.InitialMaxStreamDataBidiRemote;
        _peerStreamDataUni = p.InitialMaxStreamDataUni;
        _peerMaxStreams[Bidi] = Math.Max(_peerMaxStreams[Bidi], Math.Min(p.InitialMaxStreamsBidi, 1L << 60));
        _peerMaxStreams[Uni] = Math.Max(_peerMaxStreams[Uni], Math.Min(p.InitialMaxStreamsUni, 1L << 60));

        // Streams the peer opened before its parameters arrived (sloppy peers) get their credit now.
        foreach (var stream in _streams.Values)
        {
            if (!stream.HasSend)
                continue;
            long limit = IsLocal(stream.Id)
                ? (stream.Direction == Uni ? _peerStreamDataUni : _peerStreamDataBidiRemote)
                : _peerStreamDataBidiLocal;
            if (limit > stream.SendMax)
            {
                stream.SendMax = limit;
                if (stream.SendBuffer.Length > 0 || stream.FinQueued)
                    MarkReady(stream);
            }
        }
        ServeOpenWaiters(Bidi);
        ServeOpenWaiters(Uni);
        UnparkConnectionBlocked();
    }

    private void UnparkConnectionBlocked()
    {
        foreach (var stream in _connBlocked)
        {
            stream.Queued = false;
            MarkReady(stream);
        }
        _connBlocked.Clear();
        WakeWriter();
    }

    private void OnStream(in QMuxFrame frame)
    {
        var stream = ResolveStream(frame.StreamId, needSend: false, frame.Type);
        if (stream is null)
            return; // a stream we already finished with: late data is dropped
        int length = frame.Data.Length;
        long end = stream.Received + length;
        if (stream.FinReceived && (end > stream.FinalSize || (frame.Fin && end != stream.FinalSize)))
            throw new QMuxFrameException(QMuxTransportError.FinalSizeError, $"data beyond the final size of stream {stream.Id}", frame.Type);
        if (stream.PeerResetCode is not null)
            return; // after a reset only the final size matters, and that was checked above
        if (end > stream.RecvMax)
            throw new QMuxFrameException(QMuxTransportError.FlowControlError, $"stream {stream.Id} exceeded its window of {stream.RecvMax} bytes", frame.Type);
        ChargeConnection(length, frame.Type);
        stream.Received = end;
        if (frame.Fin)
        {
            stream.FinReceived = true;
            stream.FinalSize = end;
        }

        if (stream.StopSent)
        {
            OnConsumed(stream, length);
            if (frame.Fin)
                MarkRecvDone(stream);
        }
        else if (length > 0)
        {
            stream.RecvBuffer.Append(frame.Data.Span);
            if (!FlowControlled)
            {
                _legacyBuffered += length;
                if (_legacyBuffered > _options.MaxLegacyBufferedBytes)
                    throw new QMuxFrameException(QMuxTransportError.FlowControlError, $"more than {_options.MaxLegacyBufferedBytes} unread bytes buffered", frame.Type);
            }
        }
        ClaimReader(stream);
    }

    /// <summary>
    /// Takes the stream's parked reader for <see cref="ProcessRecord"/> to complete once it leaves the lock. Caller
    /// holds the lock.
    /// </summary>
    private void ClaimReader(QMuxStream stream)
    {
        var waiter = stream.ReadWaiter;
        stream.ReadWaiter = null;
        if (waiter is not null && waiter.TryClaim())
        {
            waiter.ClaimedNext = _claimedReaders;
            _claimedReaders = waiter;
        }
    }

    private void OnResetStream(in QMuxFrame frame)
    {
        var stream = ResolveStream(frame.StreamId, needSend: false, frame.Type);
        if (stream is null || stream.PeerResetCode is not null || stream.RecvDone)
            return;
        long finalSize = frame.FinalSize < 0 ? stream.Received : frame.FinalSize;
        if (finalSize < stream.Received || (stream.FinReceived && finalSize != stream.FinalSize))
            throw new QMuxFrameException(QMuxTransportError.FinalSizeError, $"RESET_STREAM final size {finalSize} of stream {stream.Id} contradicts {stream.Received} bytes received", frame.Type);
        if (finalSize > stream.RecvMax)
            throw new QMuxFrameException(QMuxTransportError.FlowControlError, $"RESET_STREAM final size {finalSize} exceeds the window of stream {stream.Id}", frame.Type);
        long gap = finalSize - stream.Received;
        ChargeConnection(gap, frame.Type);
        stream.Received = finalSize;
        stream.PeerResetCode = frame.ErrorCode;
        // Unread and never-sent bytes are given back to the connection window.
        long discarded = stream.RecvBuffered;
        stream.ClearBuffers();
        OnConsumed(stream, discarded + gap);
        WakeReader(stream);
        MarkRecvDone(stream);
    }

    private void ChargeConnection(long length, ulong frameType)
    {
        _connReceived += length;
        if (_connReceived > _connRecvMax)
            throw new QMuxFrameException(QMuxTransportError.FlowControlError, $"connection exceeded its window of {_connRecvMax} bytes", frameType);
    }

    private bool IsLocal(long id) => ((id & 1) == 1) == _isServer;

    /// <summary>
    /// Finds the stream a frame refers to, creating peer-initiated streams on first sight (and any
    /// lower-numbered ones, as QUIC does). Null for a stream that already ended. Frames for the
    /// missing half of a uni stream, for streams we never opened, or beyond our stream limit throw.
    /// </summary>
    private QMuxStream? ResolveStream(long id, bool needSend, ulong frameType)
    {
        int direction = (int)((id >> 1) & 1);
        long index = id >> 2;
        if (IsLocal(id))
        {
            if (direction == Uni && !needSend)
                throw new QMuxFrameException(QMuxTransportError.StreamStateError, $"receive-side frame for our send-only stream {id}", frameType);
            if (index >= _localOpened[direction])
                throw new QMuxFrameException(QMuxTransportError.StreamStateError, $"frame for stream {id}, which we have not opened", frameType);
            return _streams.GetValueOrDefault(id);
        }

        if (direction == Uni && needSend)
            throw new QMuxFrameException(QMuxTransportError.StreamStateError, $"send-side frame for the peer's send-only stream {id}", frameType);
        if (index < _peerOpened[direction])
            return _streams.GetValueOrDefault(id);
        if (index >= _localMaxStreams[direction])
            throw new QMuxFrameException(QMuxTransportError.StreamLimitError, $"stream {id} exceeds the limit of {_localMaxStreams[direction]} {(direction == Uni ? "uni" : "bidi")} streams", frameType);

        QMuxStream? found = null;
        for (long i = _peerOpened[direction]; i <= index; i++)
        {
            long streamId = (i << 2) | (id & 3);
            var stream = direction == Bidi
                ? new QMuxStream(this, streamId, hasSend: true, hasRecv: true, _peerStreamDataBidiLocal, RecvWindow(_options.InitialMaxStreamDataBidiRemote))
                : new QMuxStream(this, streamId, hasSend: false, hasRecv: true, 0, RecvWindow(_options.InitialMaxStreamDataUni));
            _streams.Add(streamId, stream);
            DeliverAccepted(direction, stream);
            found = stream;
        }
        _peerOpened[direction] = index + 1;
        AnnounceStreamCreditIfLow(direction);
        return found;
    }

    private static void WakeReader(QMuxStream stream)
    {
        var waiter = stream.ReadWaiter;
        stream.ReadWaiter = null;
        waiter?.Wake();
    }

    /// <summary>A cancelled read's waiter leaves its stream (from the token's callback).</summary>
    internal void RemoveReadWaiter(QMuxStream stream, AsyncWaiter waiter)
    {
        lock (_sync)
        {
            if (stream.ReadWaiter == waiter)
                stream.ReadWaiter = null;
        }
    }

    // ------------------------------------------------------------------ application reads

    internal ValueTask<int> ReadAsync(QMuxStream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (TryReadLocked(stream, buffer, out var read))
                return new ValueTask<int>(read);
            if (buffer.IsEmpty)
            {
                // A zero-byte read waits for bytes or the end without taking any: what idle readers (an idle session's
                // announcement and subscription streams) park on for hours. The waiter is the task itself, so such a
                // reader holds no state machine here. Its wake may be early; the caller's next read tells.
                var waiter = AsyncWaiter.Rent(wakeInline: true);
                stream.ReadWaiter = waiter;
                return waiter.ArmOnce(stream, cancellationToken);
            }
        }
        return ReadSlowAsync(stream, buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(QMuxStream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // Borrowed only to park: a reader that keeps up parks once per record, and a pooled waiter makes that free.
        // Data wakes it on the receive loop (ClaimReader): no thread-pool hop per record.
        var waiter = AsyncWaiter.Rent(wakeInline: true);
        try
        {
            while (true)
            {
                ValueTask wait;
                lock (_sync)
                {
                    if (TryReadLocked(stream, buffer, out var read))
                        return read;
                    stream.ReadWaiter = waiter;
                    wait = waiter.Arm(stream, cancellationToken);
                }
                await wait.ConfigureAwait(false);
            }
        }
        finally
        {
            AsyncWaiter.Return(waiter);
        }
    }

    /// <summary>
    /// Reads what is there (true with the count; 0 at the end, or for a zero-byte read with bytes buffered), throws for
    /// a reset, stopped or closed stream, or returns false when the caller must park a waiter. Caller holds the lock.
    /// </summary>
    private bool TryReadLocked(QMuxStream stream, Memory<byte> buffer, out int read)
    {
        read = 0;
        if (stream.PeerResetCode is ulong code)
            throw new StreamAbortedException(code, $"peer reset stream {stream.Id} ({code})");
        if (stream.StopSent)
            throw new StreamAbortedException(stream.StopCode, $"stream {stream.Id} was stopped locally ({stream.StopCode})");
        if (stream.RecvBuffered > 0)
        {
            if (buffer.IsEmpty)
                return true;
            read = stream.RecvBuffer.Read(buffer.Span);
            OnConsumed(stream, read);
            return true;
        }
        if (stream.FinReceived && stream.Consumed == stream.FinalSize)
        {
            MarkRecvDone(stream);
            return true;
        }
        ThrowIfClosed();
        if (stream.ReadWaiter is not null)
            throw new InvalidOperationException($"stream {stream.Id} already has a read pending");
        return false;
    }

    internal void StopSending(QMuxStream stream, ulong code)
    {
        lock (_sync)
        {
            if (_closeInfo is not null || stream.StopSent || stream.PeerResetCode is not null || stream.RecvDone)
                return;
            stream.StopSent = true;
            stream.StopCode = code;
            long discarded = stream.RecvBuffered;
            if (discarded > 0)
                stream.RecvBuffer.Clear();
            OnConsumed(stream, discarded);
            if (stream.FinReceived)
            {
                MarkRecvDone(stream);
            }
            else
            {
                _control.Enqueue(new ControlFrame(ControlKind.StopSending, stream.Id, code, 0));
                WakeWriter();
            }
            WakeReader(stream);
        }
    }

    /// <summary>
    /// Bytes left the receive buffer (read or discarded): replenish stream and connection credit once
    /// half a window is used, and finish the receive half when everything up to FIN is consumed.
    /// </summary>
    private void OnConsumed(QMuxStream stream, long count)
    {
        if (count <= 0)
            return;
        stream.Consumed += count;
        _connConsumed += count;
        if (!FlowControlled)
        {
            _legacyBuffered -= Math.Min(count, _legacyBuffered);
            return;
        }
        if (!stream.FinReceived && stream.PeerResetCode is null && !stream.StopSent
            && stream.Consumed + stream.RecvWindow - stream.RecvMax >= stream.RecvWindow / 2)
        {
            stream.RecvMax = stream.Consumed + stream.RecvWindow;
            _control.Enqueue(new ControlFrame(ControlKind.MaxStreamData, stream.Id, 0, stream.RecvMax));
            WakeWriter();
        }
        if (_connConsumed + _connRecvWindow - _connRecvMax >= _connRecvWindow / 2)
        {
            _connRecvMax = _connConsumed + _connRecvWindow;
            _maxDataPending = true;
            WakeWriter();
        }
        if (stream.FinReceived && stream.Consumed == stream.FinalSize)
            MarkRecvDone(stream);
    }

    private void MarkRecvDone(QMuxStream stream)
    {
        if (stream.RecvDone)
            return;
        stream.RecvDone = true;
        TryRemove(stream);
    }

    /// <summary>Forgets a stream whose halves are both finished; a peer-initiated one returns stream credit.</summary>
    private void TryRemove(QMuxStream stream)
    {
        if (stream.Removed || (stream.HasSend && !stream.SendDone) || (stream.HasRecv && !stream.RecvDone))
            return;
        stream.Removed = true;
        _streams.Remove(stream.Id);
        if (IsLocal(stream.Id))
            return;
        int direction = stream.Direction;
        _localMaxStreams[direction]++;
        AnnounceStreamCreditIfLow(direction);
    }

    /// <summary>
    /// Queues MAX_STREAMS once the peer has used half of the stream credit we announced, not on every closed stream:
    /// over TCP or WebSocket nothing else would carry it (QUIC rides it on an ACK), so a subscriber answering each
    /// finished group with a record of its own cost the relay a receive per group per subscriber, right when the next
    /// group's fan-out starts. Checked on both events that move the balance (a stream opened, a stream finished), so
    /// a peer that has run out always hears of any credit freed.
    /// </summary>
    private void AnnounceStreamCreditIfLow(int direction)
    {
        if (!FlowControlled || _maxStreamsPending[direction] || _localMaxStreams[direction] <= _announcedMaxStreams[direction])
            return;
        long window = direction == Bidi ? _options.InitialMaxStreamsBidi : _options.InitialMaxStreamsUni;
        if (_announcedMaxStreams[direction] - _peerOpened[direction] >= (window + 1) / 2)
            return;
        _maxStreamsPending[direction] = true;
        WakeWriter();
    }
}
