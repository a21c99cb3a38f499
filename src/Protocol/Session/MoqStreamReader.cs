using System.Runtime.CompilerServices;
using System.Buffers;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Session;

/// <summary>
/// Buffers one receive stream and decodes moq-lite primitives and messages from it. Message bodies are
/// bounded by <see cref="ProtocolLimits.MaxMessageSize"/> before any byte is buffered, frame payloads by
/// <see cref="ProtocolLimits.MaxFrameSize"/>; a payload is copied exactly once, into its own array.
/// </summary>
public sealed class MoqStreamReader : IDisposable
{
    private readonly IRecvStream _stream;
    private readonly ProtocolLimits _limits;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _fin;

    /// <summary>Wraps <paramref name="stream"/>.</summary>
    public MoqStreamReader(IRecvStream stream, ProtocolLimits limits)
    {
        _stream = stream;
        _limits = limits;
        // Rented when bytes are wanted and returned while the stream is quiet: most streams of an idle session
        // (announcements, the session stream) wait for hours between messages.
        _buffer = [];
    }

    private const int BufferSize = 4096;

    /// <summary>The underlying stream.</summary>
    public IRecvStream Stream => _stream;

    private int Buffered => _end - _start;

    /// <summary>Waits for at least <paramref name="count"/> buffered bytes; false at FIN before that.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(int count, CancellationToken ct)
    {
        while (Buffered < count)
        {
            if (_fin)
                return false;
            if (Buffered == 0)
            {
                // Nothing kept: wait for data without a buffer (a zero-byte read returns once bytes or FIN arrived).
                ReturnBuffer();
                await _stream.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
                _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(BufferSize, count));
            }
            if (_buffer.Length - _start < count || _end == _buffer.Length)
            {
                // Compact, or grow when the wanted span does not fit at all.
                var target = _buffer.Length >= count ? _buffer : ArrayPool<byte>.Shared.Rent(count);
                Buffer.BlockCopy(_buffer, _start, target, 0, Buffered);
                if (target != _buffer)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = target;
                }
                _end = Buffered;
                _start = 0;
            }
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (read == 0)
                _fin = true;
            _end += read;
        }
        return true;
    }

    /// <summary>
    /// Completes once a byte is buffered or can be read, or the stream ended, without reading anything. A loop that
    /// waits long between messages (an idle session's announcement or subscription stream) parks here first: one
    /// stream read is parked instead of the whole message-reading chain, each level a state machine held while it
    /// waits. The result means nothing.
    /// </summary>
    internal ValueTask<int> WaitForDataAsync(CancellationToken ct)
    {
        if (Buffered > 0 || _fin)
            return new ValueTask<int>(0);
        // Nothing kept while waiting, as in FillAsync: a zero-byte read returns once bytes or FIN arrived.
        ReturnBuffer();
        return _stream.ReadAsync(Memory<byte>.Empty, ct);
    }

    /// <summary>True when the stream ended cleanly with nothing left to read.</summary>
    public async ValueTask<bool> IsFinishedAsync(CancellationToken ct = default) => !await FillAsync(1, ct).ConfigureAwait(false);

    /// <summary>Reads a varint; null at a clean FIN before its first byte; throws when truncated.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ulong?> TryReadVarIntAsync(CancellationToken ct = default)
    {
        if (!await FillAsync(1, ct).ConfigureAwait(false))
            return null;
        var length = VarInt.LengthFromFirstByte(_buffer[_start]);
        if (!await FillAsync(length, ct).ConfigureAwait(false))
            throw new DecodeException("stream ended inside a varint");
        VarInt.TryRead(_buffer.AsSpan(_start, length), out var value, out _);
        _start += length;
        return value;
    }

    /// <summary>Reads a varint; throws at FIN.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ulong> ReadVarIntAsync(CancellationToken ct = default)
        => await TryReadVarIntAsync(ct).ConfigureAwait(false) ?? throw new DecodeException("stream ended before a varint");

    /// <summary>Reads one raw byte; null at FIN.</summary>
    public async ValueTask<byte?> TryReadByteAsync(CancellationToken ct = default)
    {
        if (!await FillAsync(1, ct).ConfigureAwait(false))
            return null;
        return _buffer[_start++];
    }

    /// <summary>Reads <c>Message Length (i)</c> + body and decodes it; null at a clean FIN between messages.</summary>
    public async ValueTask<T?> TryReadMessageAsync<T>(MoqVersion version, CancellationToken ct = default) where T : class, IMessage<T>
    {
        var body = await TryReadBodyAsync(ct).ConfigureAwait(false);
        if (body is null)
            return null;
        return MessageCodec.Decode<T>(body.Value.Span, version, _limits);
    }

    /// <summary>Reads and decodes a length-prefixed message; throws at FIN.</summary>
    public async ValueTask<T> ReadMessageAsync<T>(MoqVersion version, CancellationToken ct = default) where T : IMessage<T>
    {
        var body = await TryReadBodyAsync(ct).ConfigureAwait(false) ?? throw new DecodeException($"stream ended before {typeof(T).Name}");
        return MessageCodec.Decode<T>(body.Span, version, _limits);
    }

    /// <summary>
    /// Reads a length-prefixed body into the internal buffer (valid until the next read); null at a clean FIN.
    /// The length is checked against the message limit before buffering.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>?> TryReadBodyAsync(CancellationToken ct = default)
    {
        var length = await TryReadVarIntAsync(ct).ConfigureAwait(false);
        if (length is null)
            return null;
        if (length > (ulong)_limits.MaxMessageSize)
            throw new DecodeException($"message length {length} exceeds limit {_limits.MaxMessageSize}", MoqErrorCode.BoundsExceeded);
        return await ReadSpanAsync((int)length.Value, ct).ConfigureAwait(false);
    }

    /// <summary>Reads a typed message header and body (lite-03+ subscribe responses); null at a clean FIN.</summary>
    public async ValueTask<(ulong Type, ReadOnlyMemory<byte> Body)?> TryReadTypedAsync(CancellationToken ct = default)
    {
        var type = await TryReadVarIntAsync(ct).ConfigureAwait(false);
        if (type is null)
            return null;
        var body = await TryReadBodyAsync(ct).ConfigureAwait(false) ?? throw new DecodeException("stream ended inside a typed message");
        return (type.Value, body);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes into the internal buffer (valid until the next read).</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadSpanAsync(int count, CancellationToken ct = default)
    {
        if (!await FillAsync(count, ct).ConfigureAwait(false))
            throw new DecodeException($"stream ended: needed {count} bytes, had {Buffered}");
        var memory = _buffer.AsMemory(_start, count);
        _start += count;
        return memory;
    }

    /// <summary>Reads a frame payload of <paramref name="size"/> bytes into a new array (the one copy a payload gets).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<byte[]> ReadPayloadAsync(ulong size, CancellationToken ct = default)
    {
        if (size > (ulong)_limits.MaxFrameSize)
            throw new ProtocolException(MoqErrorCode.FrameTooLarge, $"frame of {size} bytes exceeds limit {_limits.MaxFrameSize}");
        var payload = size == 0 ? [] : GC.AllocateUninitializedArray<byte>((int)size);
        var filled = Math.Min(Buffered, payload.Length);
        _buffer.AsSpan(_start, filled).CopyTo(payload);
        _start += filled;
        while (filled < payload.Length)
        {
            if (_fin)
                throw new DecodeException($"stream ended inside a frame: {filled} of {size} bytes");
            var read = await _stream.ReadAsync(payload.AsMemory(filled), ct).ConfigureAwait(false);
            if (read == 0)
                _fin = true;
            filled += read;
        }
        return payload;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with the next <c>destination.Length</c> bytes of the stream (a frame
    /// payload into memory the caller owns, e.g. a pooled array); throws when the stream ends first.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken ct = default)
    {
        var filled = Math.Min(Buffered, destination.Length);
        _buffer.AsSpan(_start, filled).CopyTo(destination.Span);
        _start += filled;
        while (filled < destination.Length)
        {
            if (_fin)
                throw new DecodeException($"stream ended inside a frame: {filled} of {destination.Length} bytes");
            var read = await _stream.ReadAsync(destination[filled..], ct).ConfigureAwait(false);
            if (read == 0)
                _fin = true;
            filled += read;
        }
    }

    /// <summary>Reads and discards everything up to FIN (keeps a stream drained without interpreting it).</summary>
    public async ValueTask DrainAsync(CancellationToken ct = default)
    {
        while (!_fin)
        {
            // Between bursts hold no buffer: a drained stream may stay quiet for the whole session.
            ReturnBuffer();
            await _stream.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
            _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            var read = await _stream.ReadAsync(_buffer, ct).ConfigureAwait(false);
            if (read == 0)
                _fin = true;
        }
        ReturnBuffer();
    }

    /// <inheritdoc />
    public void Dispose() => ReturnBuffer();

    private void ReturnBuffer()
    {
        var buffer = _buffer;
        _buffer = [];
        _start = _end = 0;
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
