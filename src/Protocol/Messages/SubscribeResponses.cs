using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// Encodes and decodes the publisher → subscriber side of a Subscribe stream for every version:
/// untyped SUBSCRIBE_OK on lite-01/02, typed messages (<c>Type (i)</c>, <c>Length (i)</c>, body)
/// from lite-03, with type codes that differ between lite-03/04 and lite-05 (spec §4.4).
/// </summary>
public static class SubscribeResponses
{
    /// <summary>Writes <paramref name="response"/> with the framing of <paramref name="version"/>.</summary>
    /// <exception cref="ProtocolException">The response does not exist in <paramref name="version"/> (code <see cref="MoqErrorCode.Encode"/>).</exception>
    public static void Encode(MessageWriter writer, ISubscribeResponse response, MoqVersion version)
    {
        switch (response)
        {
            case SubscribeOk ok when !SubscribeOk.IsTypedIn(version):
                MessageCodec.Encode(writer, ok, version);
                break;
            case SubscribeOk ok:
                MessageCodec.EncodeTyped(writer, ok, version);
                break;
            case SubscribeDrop drop:
                MessageCodec.EncodeTyped(writer, drop, version);
                break;
            case SubscribeStart start:
                MessageCodec.EncodeTyped(writer, start, version);
                break;
            case SubscribeEnd end:
                MessageCodec.EncodeTyped(writer, end, version);
                break;
            default:
                throw new ProtocolException(MoqErrorCode.Encode, $"unknown subscribe response {response.GetType().Name}");
        }
    }

    /// <summary>True when responses on <paramref name="version"/> carry a type code (lite-03+).</summary>
    public static bool IsTyped(MoqVersion version) => version.HasSubscribeOptions();

    /// <summary>
    /// Decodes the body of a typed response (lite-03+) given its type code.
    /// </summary>
    /// <exception cref="DecodeException">Unknown type for <paramref name="version"/>, or a malformed body.</exception>
    /// <exception cref="ProtocolException">Called for lite-01/02, whose responses are untyped.</exception>
    public static ISubscribeResponse DecodeTyped(ulong type, ReadOnlySpan<byte> body, MoqVersion version, ProtocolLimits? limits = null)
    {
        if (!IsTyped(version))
            throw new ProtocolException(MoqErrorCode.Unsupported, $"subscribe responses are untyped in {version.Name()}");
        if (version.HasSubscribeStart())
        {
            return type switch
            {
                0 => MessageCodec.Decode<SubscribeStart>(body, version, limits),
                1 => MessageCodec.Decode<SubscribeEnd>(body, version, limits),
                2 => MessageCodec.Decode<SubscribeDrop>(body, version, limits),
                _ => throw new DecodeException($"unknown subscribe response type {type} in {version.Name()}"),
            };
        }
        return type switch
        {
            SubscribeOk.TypedCode => MessageCodec.Decode<SubscribeOk>(body, version, limits),
            1 => MessageCodec.Decode<SubscribeDrop>(body, version, limits),
            _ => throw new DecodeException($"unknown subscribe response type {type} in {version.Name()}"),
        };
    }

    /// <summary>
    /// Decodes one response from the start of a receive buffer in the framing of
    /// <paramref name="version"/>. Returns false (with <paramref name="consumed"/> = 0) when more bytes are needed.
    /// </summary>
    /// <exception cref="DecodeException">Malformed input, unknown type or oversize length.</exception>
    public static bool TryDecode(ReadOnlySpan<byte> buffer, MoqVersion version, ProtocolLimits limits, out ISubscribeResponse? response, out int consumed)
    {
        response = null;
        consumed = 0;
        if (!IsTyped(version))
        {
            if (!MessageCodec.TryDecode<SubscribeOk>(buffer, version, limits, out var ok, out consumed))
                return false;
            response = ok;
            return true;
        }
        if (!MessageCodec.TryReadTypedHeader(buffer, limits, out var type, out var header, out var length) || buffer.Length - header < length)
            return false;
        response = DecodeTyped(type, buffer.Slice(header, length), version, limits);
        consumed = header + length;
        return true;
    }
}
