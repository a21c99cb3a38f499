using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;

namespace MoqCluster.Protocol.Tests.Messages;

/// <summary>Hex conversion and encode/decode shortcuts shared by the message tests.</summary>
internal static class Wire
{
    public static readonly MoqVersion[] AllVersions = [MoqVersion.Lite01, MoqVersion.Lite02, MoqVersion.Lite03, MoqVersion.Lite04, MoqVersion.Lite05];

    public static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    public static string Hex(ReadOnlySpan<byte> bytes) => string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2")));

    public static IEnumerable<MoqVersion> Where(Func<MoqVersion, bool> predicate) => AllVersions.Where(predicate);

    /// <summary>Length-prefixed encoding, optionally preceded by a stream type.</summary>
    public static string Encode<T>(T message, MoqVersion version, ulong? streamType = null) where T : IMessage<T>
    {
        using var writer = new MessageWriter();
        if (streamType is { } type)
            writer.WriteVarInt(type);
        MessageCodec.Encode(writer, message, version);
        return Hex(writer.WrittenSpan);
    }

    public static string EncodeResponse(ISubscribeResponse response, MoqVersion version)
    {
        using var writer = new MessageWriter();
        SubscribeResponses.Encode(writer, response, version);
        return Hex(writer.WrittenSpan);
    }

    /// <summary>Decodes a length-prefixed message that must fill <paramref name="hex"/> exactly (after an optional stream type).</summary>
    public static T Decode<T>(string hex, MoqVersion version, ulong? streamType = null, ProtocolLimits? limits = null) where T : IMessage<T>
    {
        var bytes = Bytes(hex).AsSpan();
        if (streamType is { } type)
        {
            Assert.True(VarInt.TryRead(bytes, out var read, out var n));
            Assert.Equal(type, read);
            bytes = bytes[n..];
        }
        Assert.True(MessageCodec.TryDecode<T>(bytes, version, limits ?? ProtocolLimits.Default, out var message, out var consumed));
        Assert.Equal(bytes.Length, consumed);
        return message!;
    }

    /// <summary>Asserts both directions of a test vector.</summary>
    public static void Vector<T>(T message, MoqVersion version, string hex, ulong? streamType = null) where T : IMessage<T>
    {
        Assert.Equal(hex, Encode(message, version, streamType));
        Assert.Equal(message, Decode<T>(hex, version, streamType));
    }

    public static ISubscribeResponse DecodeResponse(string hex, MoqVersion version)
    {
        var bytes = Bytes(hex);
        Assert.True(SubscribeResponses.TryDecode(bytes, version, ProtocolLimits.Default, out var response, out var consumed));
        Assert.Equal(bytes.Length, consumed);
        return response!;
    }
}
