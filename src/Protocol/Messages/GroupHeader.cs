using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// GROUP: the length-prefixed header of a Group uni stream, after the stream type byte (spec §4.9).
/// A value type so the per-group hot path allocates nothing.
/// </summary>
/// <param name="SubscribeId">Routes the stream to the subscription (full 62-bit).</param>
/// <param name="Sequence">Group sequence number.</param>
public readonly record struct GroupHeader(ulong SubscribeId, ulong Sequence) : IMessage<GroupHeader>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => true;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WriteVarInt(SubscribeId);
        writer.WriteU53(Sequence);
    }

    /// <inheritdoc />
    public static GroupHeader DecodeBody(ref MessageReader reader, MoqVersion version)
        => new(reader.ReadVarInt(), reader.ReadVarInt());

    /// <summary>
    /// Writes the stream type, length and body into <paramref name="destination"/> (at least
    /// <see cref="MaxStreamPrefixSize"/> bytes) without a <see cref="MessageWriter"/>; returns the bytes written.
    /// </summary>
    public int WriteStreamPrefix(Span<byte> destination)
    {
        if (Sequence > VarInt.MaxSafeInteger)
            throw new ProtocolException(MoqErrorCode.Encode, $"group sequence {Sequence} exceeds 2^53-1");
        var body = VarInt.SizeOf(SubscribeId) + VarInt.SizeOf(Sequence);
        destination[0] = (byte)UniStreamType.Group;
        var n = 1 + VarInt.Write(destination[1..], (ulong)body);
        n += VarInt.Write(destination[n..], SubscribeId);
        n += VarInt.Write(destination[n..], Sequence);
        return n;
    }

    /// <summary>Largest output of <see cref="WriteStreamPrefix"/>: type, 1-byte length, two 8-byte varints.</summary>
    public const int MaxStreamPrefixSize = 18;
}
