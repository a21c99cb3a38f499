using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// The legacy SETUP framing: <c>Type (i)</c> then a big-endian <b>u16</b> payload length (not a
/// varint, spec §4.1 and pitfall §8.3).
/// </summary>
internal static class LegacySetupFraming
{
    /// <summary>Reads the header; false when incomplete. A wrong type byte is a decode error.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> buffer, ulong expectedType, ProtocolLimits limits, out int headerLength, out int payloadLength)
    {
        headerLength = 0;
        payloadLength = 0;
        if (!VarInt.TryRead(buffer, out var type, out var typeLength))
            return false;
        if (type != expectedType)
            throw new DecodeException($"expected SETUP type 0x{expectedType:x}, got 0x{type:x}");
        if (buffer.Length < typeLength + 2)
            return false;
        payloadLength = (buffer[typeLength] << 8) | buffer[typeLength + 1];
        if (payloadLength > limits.MaxMessageSize)
            throw new DecodeException($"SETUP payload of {payloadLength} bytes exceeds limit {limits.MaxMessageSize}", MoqErrorCode.BoundsExceeded);
        headerLength = typeLength + 2;
        return true;
    }

    public delegate T BodyDecoder<out T>(ref MessageReader reader);

    /// <summary>Decodes exactly one whole message (header + payload), rejecting truncation and trailing bytes.</summary>
    public static T Decode<T>(ReadOnlySpan<byte> message, ulong expectedType, ProtocolLimits limits, BodyDecoder<T> decodeBody)
    {
        if (!TryReadHeader(message, expectedType, limits, out var header, out var payload))
            throw new DecodeException("truncated SETUP header");
        if (message.Length - header < payload)
            throw new DecodeException($"truncated SETUP: need {payload} payload bytes, have {message.Length - header}");
        if (message.Length - header > payload)
            throw new DecodeException($"{message.Length - header - payload} trailing bytes after SETUP");
        return DecodePayload(message.Slice(header, payload), limits, decodeBody);
    }

    /// <summary>Decodes one message from the start of a receive buffer; false when more bytes are needed.</summary>
    public static bool TryDecode<T>(ReadOnlySpan<byte> buffer, ulong expectedType, ProtocolLimits limits, BodyDecoder<T> decodeBody, out T? message, out int consumed)
    {
        message = default;
        consumed = 0;
        if (!TryReadHeader(buffer, expectedType, limits, out var header, out var payload) || buffer.Length - header < payload)
            return false;
        message = DecodePayload(buffer.Slice(header, payload), limits, decodeBody);
        consumed = header + payload;
        return true;
    }

    private static T DecodePayload<T>(ReadOnlySpan<byte> payload, ProtocolLimits limits, BodyDecoder<T> decodeBody)
    {
        var reader = new MessageReader(payload, limits);
        var message = decodeBody(ref reader);
        reader.EnsureEnd();
        return message;
    }

    public static void Encode(MessageWriter writer, ulong type, Action<MessageWriter> encodeBody)
    {
        writer.WriteVarInt(type);
        var mark = writer.BeginU16Length();
        encodeBody(writer);
        writer.EndU16Length(mark);
    }
}
