using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace MoqCluster.Protocol.Transport;

using Refusal = WebSocketFrameRules.Refusal;

public sealed partial class WebSocketServerChannel
{
    // The record being assembled; rented per message and returned on the next receive (idle sessions hold none).
    private byte[] _record = [];
    private int _recordCapacity;
    private int _messageLength;
    private bool _inMessage;
    // The data frame whose payload is being copied out.
    private long _frameRemaining;
    private uint _frameMask;
    private int _frameMaskOffset;
    private bool _frameFin;
    // 0 idle, 1 inside ReceiveAsync, -1 receive side torn down (by DisposeAsync or by the last receive after it).
    private int _receiving;
    // Set before we cancel the input's pending read ourselves: Kestrel cancels it too (server shutdown, its timeouts),
    // and those cancellations are not ours to act on.
    private int _readCancelRequested;
    // Completed once the receive side is torn down, so disposal knows the input is no longer read.
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _peerClosed;
    private bool _receiveFailed;
    private Refusal _refusal;

    private enum Outcome { NeedMore, Message, PeerClose, Refused }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _receiving, 1, 0) != 0)
        {
            throw Volatile.Read(ref _receiving) < 0
                ? new ConnectionClosedException(MoqErrorCodeTransport, "websocket channel disposed")
                : new InvalidOperationException("ReceiveAsync is already pending");
        }

        try
        {
            // The previous record is no longer needed.
            ReturnRecord();
            if (_peerClosed)
            {
                return null;
            }

            if (_receiveFailed)
            {
                throw new ConnectionClosedException(MoqErrorCodeTransport, "websocket receive failed earlier");
            }

            _messageLength = 0;
            _inMessage = false;
            _frameRemaining = 0;
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    _receiveFailed = true;
                    throw;
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
                {
                    // A reset TCP connection or an aborted one (e.g. a missed keep-alive Pong).
                    throw ReceiveFailed(e.Message);
                }

                var buffer = result.Buffer;
                if (result.IsCanceled && Volatile.Read(ref _readCancelRequested) != 0)
                {
                    // Leave the input as we found it (every read is matched by an advance).
                    _input.AdvanceTo(buffer.Start);
                    throw ReceiveFailed("channel disposed");
                }

                var outcome = Parse(buffer, out var consumed);
                _input.AdvanceTo(consumed, outcome == Outcome.NeedMore ? buffer.End : consumed);
                switch (outcome)
                {
                    case Outcome.Message:
                        return _record.AsMemory(0, _messageLength);
                    case Outcome.PeerClose:
                        // Complete the Close handshake so the peer sees a clean shutdown, then report end of channel.
                        _peerClosed = true;
                        ReturnRecord();
                        QueueClose(WebSocketCloseStatus.NormalClosure, "");
                        await WaitForCloseFrameAsync().ConfigureAwait(false);
                        return null;
                    case Outcome.Refused:
                        _receiveFailed = true;
                        ReturnRecord();
                        QueueClose(_refusal.Status, _refusal.CloseReason);
                        await WaitForCloseFrameAsync().ConfigureAwait(false);
                        throw new ConnectionClosedException(_refusal.Code, _refusal.Message);
                    case Outcome.NeedMore when result.IsCompleted:
                        throw ReceiveFailed("the peer closed the connection without a close frame");
                }
            }
        }
        finally
        {
            Volatile.Write(ref _receiving, 0);
            if (Volatile.Read(ref _disposed) != 0)
            {
                EndReceiving();
            }
        }
    }

    private ConnectionClosedException ReceiveFailed(string why)
    {
        _receiveFailed = true;
        var aborted = Volatile.Read(ref _abortReason);
        return new ConnectionClosedException(MoqErrorCodeTransport, $"websocket receive failed: {aborted ?? why}");
    }

    /// <summary>
    /// Consumes frames from <paramref name="buffer"/> until a message is complete, more bytes are needed, the peer
    /// closed, or its input must be refused. Data payloads are unmasked straight into the record buffer; control
    /// frames are handled only once whole (they are at most 127 + 4 bytes).
    /// </summary>
    private Outcome Parse(ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        Span<byte> control = stackalloc byte[WebSocketFraming.MaxControlPayload];
        while (true)
        {
            if (_frameRemaining > 0)
            {
                var take = Math.Min(_frameRemaining, buffer.Length);
                foreach (var chunk in buffer.Slice(0, take))
                {
                    _frameMaskOffset = WebSocketFraming.Unmask(chunk.Span, _record.AsSpan(_messageLength), _frameMask, _frameMaskOffset);
                    _messageLength += chunk.Length;
                }

                buffer = buffer.Slice(take);
                _frameRemaining -= take;
                if (_frameRemaining > 0)
                {
                    consumed = buffer.Start;
                    return Outcome.NeedMore;
                }

                if (_frameFin)
                {
                    consumed = buffer.Start;
                    return Outcome.Message;
                }
            }

            consumed = buffer.Start;
            if (!WebSocketFraming.TryReadHeader(buffer, out var header, out var oversizedLength))
            {
                return Outcome.NeedMore;
            }

            if (Check(header, oversizedLength) is { } refusal)
            {
                _refusal = refusal;
                return Outcome.Refused;
            }

            if (WebSocketFraming.IsControl(header.Opcode))
            {
                var frameSize = header.HeaderSize + (int)header.PayloadLength;
                if (buffer.Length < frameSize)
                {
                    return Outcome.NeedMore;
                }

                var payload = control[..(int)header.PayloadLength];
                var offset = 0;
                var maskOffset = 0;
                foreach (var chunk in buffer.Slice(header.HeaderSize, header.PayloadLength))
                {
                    maskOffset = WebSocketFraming.Unmask(chunk.Span, payload[offset..], header.Mask, maskOffset);
                    offset += chunk.Length;
                }

                buffer = buffer.Slice(frameSize);
                consumed = buffer.Start;
                switch (header.Opcode)
                {
                    case WebSocketFraming.OpPing:
                        QueuePong(payload);
                        continue;
                    case WebSocketFraming.OpPong:
                        OnPong();
                        continue;
                    default:
                        if (ReadClose(payload) is { } badClose)
                        {
                            _refusal = badClose;
                            return Outcome.Refused;
                        }

                        return Outcome.PeerClose;
                }
            }

            // A data frame: its payload is copied out by the next round (possibly over several reads).
            _inMessage = true;
            var length = (int)header.PayloadLength; // Check bounded it by MaxIncomingRecordSize
            EnsureRecordCapacity(_messageLength + length);
            buffer = buffer.Slice(header.HeaderSize);
            consumed = buffer.Start;
            _frameRemaining = length;
            _frameMask = header.Mask;
            _frameMaskOffset = 0;
            _frameFin = header.Fin;
            if (length == 0 && header.Fin)
            {
                return Outcome.Message;
            }
        }
    }

    /// <summary>Validates a client frame header against RFC 6455 and our bounds; null when acceptable.</summary>
    private Refusal? Check(in WebSocketFraming.WireHeader header, bool oversizedLength) =>
        WebSocketFrameRules.Check(header, oversizedLength, peerMasks: true, _inMessage, _messageLength, MaxIncomingRecordSize);

    /// <summary>Records the peer's Close; null when it is well-formed (RFC 6455 §5.5.1, §7.4).</summary>
    private Refusal? ReadClose(ReadOnlySpan<byte> payload)
    {
        var refusal = WebSocketFrameRules.ReadClose(payload, out var status, out var description);
        if (refusal is null)
        {
            PeerCloseStatus = status;
            PeerCloseDescription = description;
        }

        return refusal;
    }

    /// <summary>Makes room for <paramref name="size"/> message bytes (bounded by the caller), keeping what was received.</summary>
    private void EnsureRecordCapacity(int size)
    {
        if (size <= _recordCapacity)
        {
            return;
        }

        // Typical records fit the first buffer; fragmented large messages double it.
        var grownSize = Math.Max(size, Math.Min(Math.Max(_recordCapacity * 2, WebSocketRecordChannel.DefaultMaxRecordSize), MaxIncomingRecordSize));
        var grown = ArrayPool<byte>.Shared.Rent(grownSize);
        _record.AsSpan(0, _messageLength).CopyTo(grown);
        ReturnRecord();
        _record = grown;
        _recordCapacity = grownSize;
    }

    private void ReturnRecord()
    {
        var record = _record;
        _record = [];
        _recordCapacity = 0;
        if (record.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(record);
        }
    }

    /// <summary>
    /// Ends the receive side once: now when no receive is running, else by the running receive on its way out (it is
    /// woken by cancelling its read). Only then are the reader and the record buffer safe to give back.
    /// </summary>
    private void EndReceiving()
    {
        if (Interlocked.CompareExchange(ref _receiving, -1, 0) == 0)
        {
            ReturnRecord();
            if (_ownsPipes)
            {
                _input.Complete();
            }

            _receiveEnded.TrySetResult();
        }
        else if (Volatile.Read(ref _receiving) > 0)
        {
            try
            {
                Volatile.Write(ref _readCancelRequested, 1);
                _input.CancelPendingRead();
            }
            catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
            {
                // The receive finished and tore the reader down meanwhile.
            }
        }
    }

    /// <summary>Waits (bounded) until the receive side is torn down, so the input is not read after disposal.</summary>
    private async Task WaitForReceiveEndAsync()
    {
        try
        {
            await _receiveEnded.Task.WaitAsync(CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A receive stuck elsewhere (it only reads the input through ReadAsync, which the cancellation woke up).
        }
    }
}
