using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// Frames and unframes messages: <c>Message Length (i)</c> + body, or <c>Type (i)</c> +
/// <c>Length (i)</c> + body for typed messages. Decoding always consumes the whole body exactly,
/// because every peer implementation rejects leftover bytes.
/// </summary>
public static class MessageCodec
{
    /// <summary>Writes <c>Message Length (i)</c> followed by the body of <paramref name="message"/>.</summary>
    /// <exception cref="ProtocolException">The message does not exist in <paramref name="version"/> or a field cannot be encoded.</exception>
    public static void Encode<T>(MessageWriter writer, T message, MoqVersion version) where T : IMessage<T>
    {
        RequireExists<T>(version);
        var mark = writer.BeginLength();
        message.EncodeBody(writer, version);
        writer.EndLength(mark);
    }

    /// <summary>Writes <c>Type (i)</c>, <c>Length (i)</c> and the body of a typed message.</summary>
    /// <exception cref="ProtocolException">The message is not typed in <paramref name="version"/>.</exception>
    public static void EncodeTyped<T>(MessageWriter writer, T message, MoqVersion version) where T : ITypedMessage<T>
    {
        if (!T.IsTypedIn(version))
            throw new ProtocolException(MoqErrorCode.Encode, $"{typeof(T).Name} is not a typed message in {version.Name()}");
        writer.WriteVarInt(T.TypeCode(version));
        var mark = writer.BeginLength();
        message.EncodeBody(writer, version);
        writer.EndLength(mark);
    }

    /// <summary>Encodes a message (length-prefixed) into a new array; convenient off the hot path.</summary>
    public static byte[] ToArray<T>(T message, MoqVersion version) where T : IMessage<T>
    {
        using var writer = new MessageWriter();
        Encode(writer, message, version);
        return writer.ToArray();
    }

    /// <summary>Decodes one complete body (without its length prefix) and rejects trailing bytes.</summary>
    /// <exception cref="DecodeException">Malformed, truncated, oversize or with trailing bytes.</exception>
    /// <exception cref="ProtocolException">The message does not exist in <paramref name="version"/>.</exception>
    public static T Decode<T>(ReadOnlySpan<byte> body, MoqVersion version, ProtocolLimits? limits = null) where T : IMessage<T>
    {
        limits ??= ProtocolLimits.Default;
        if (!T.ExistsIn(version))
            throw new ProtocolException(MoqErrorCode.Unsupported, $"{typeof(T).Name} does not exist in {version.Name()}");
        if (body.Length > limits.MaxMessageSize)
            throw new DecodeException($"message of {body.Length} bytes exceeds limit {limits.MaxMessageSize}", MoqErrorCode.BoundsExceeded);
        var reader = new MessageReader(body, limits);
        var message = T.DecodeBody(ref reader, version);
        reader.EnsureEnd();
        return message;
    }

    /// <summary>
    /// Decodes one length-prefixed message from the start of <paramref name="buffer"/> (a stream's
    /// receive buffer). Returns false when more bytes are needed; <paramref name="consumed"/> is then 0.
    /// </summary>
    /// <exception cref="DecodeException">The claimed length exceeds the limit, or the body is malformed.</exception>
    public static bool TryDecode<T>(ReadOnlySpan<byte> buffer, MoqVersion version, ProtocolLimits limits, out T? message, out int consumed)
        where T : IMessage<T>
    {
        message = default;
        consumed = 0;
        if (!TryReadLength(buffer, limits, out var prefix, out var length))
            return false;
        if (buffer.Length - prefix < length)
            return false;
        message = Decode<T>(buffer.Slice(prefix, length), version, limits);
        consumed = prefix + length;
        return true;
    }

    /// <summary>
    /// Reads a <c>Message Length (i)</c> prefix. Returns false when the varint is incomplete. The
    /// length is checked against <see cref="ProtocolLimits.MaxMessageSize"/> before anything is buffered.
    /// </summary>
    /// <exception cref="DecodeException">The length exceeds the limit (<see cref="MoqErrorCode.BoundsExceeded"/>).</exception>
    public static bool TryReadLength(ReadOnlySpan<byte> buffer, ProtocolLimits limits, out int prefixLength, out int bodyLength)
    {
        bodyLength = 0;
        if (!VarInt.TryRead(buffer, out var length, out prefixLength))
        {
            prefixLength = 0;
            return false;
        }
        if (length > (ulong)limits.MaxMessageSize)
            throw new DecodeException($"message length {length} exceeds limit {limits.MaxMessageSize}", MoqErrorCode.BoundsExceeded);
        bodyLength = (int)length;
        return true;
    }

    /// <summary>
    /// Reads the <c>Type (i)</c> and <c>Length (i)</c> of a typed message. Returns false when either
    /// varint is incomplete.
    /// </summary>
    /// <exception cref="DecodeException">The length exceeds the limit.</exception>
    public static bool TryReadTypedHeader(ReadOnlySpan<byte> buffer, ProtocolLimits limits, out ulong type, out int headerLength, out int bodyLength)
    {
        headerLength = 0;
        bodyLength = 0;
        if (!VarInt.TryRead(buffer, out type, out var typeLength))
            return false;
        if (!TryReadLength(buffer[typeLength..], limits, out var prefix, out bodyLength))
            return false;
        headerLength = typeLength + prefix;
        return true;
    }

    private static void RequireExists<T>(MoqVersion version) where T : IMessage<T>
    {
        if (!T.ExistsIn(version))
            throw new ProtocolException(MoqErrorCode.Encode, $"{typeof(T).Name} does not exist in {version.Name()}");
    }
}
