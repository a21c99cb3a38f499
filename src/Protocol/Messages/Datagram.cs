using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// A lite-05 datagram (spec §4.10): a whole single-frame group, carried without a length prefix.
/// Decoding slices the payload out of the input instead of copying it.
/// </summary>
/// <param name="SubscribeId">Routes the datagram; unknown ids are dropped silently.</param>
/// <param name="Group">Group sequence.</param>
/// <param name="Timestamp">Absolute timestamp in the track's timescale.</param>
/// <param name="Payload">The frame payload, running to the end of the datagram.</param>
public readonly record struct Datagram(ulong SubscribeId, ulong Group, ulong Timestamp, ReadOnlyMemory<byte> Payload)
{
    /// <summary>True when datagrams exist in <paramref name="version"/>.</summary>
    public static bool ExistsIn(MoqVersion version) => version.HasTrackInfo();

    /// <summary>Appends the datagram body to <paramref name="writer"/>.</summary>
    public void Encode(MessageWriter writer)
    {
        writer.WriteVarInt(SubscribeId);
        writer.WriteU53(Group);
        writer.WriteU53(Timestamp);
        writer.WriteBytes(Payload.Span);
    }

    /// <summary>Decodes a whole datagram; the payload aliases <paramref name="datagram"/>.</summary>
    /// <exception cref="DecodeException">Truncated header, or a payload over <see cref="ProtocolLimits.MaxFrameSize"/>.</exception>
    public static Datagram Decode(ReadOnlyMemory<byte> datagram, ProtocolLimits? limits = null)
    {
        limits ??= ProtocolLimits.Default;
        var reader = new MessageReader(datagram.Span, limits);
        var id = reader.ReadVarInt();
        var group = reader.ReadVarInt();
        var timestamp = reader.ReadVarInt();
        if (reader.Remaining > limits.MaxFrameSize)
            throw new DecodeException($"datagram payload of {reader.Remaining} bytes exceeds limit {limits.MaxFrameSize}", MoqErrorCode.BoundsExceeded);
        return new Datagram(id, group, timestamp, datagram[reader.Position..]);
    }

    /// <inheritdoc />
    public bool Equals(Datagram other) => SubscribeId == other.SubscribeId && Group == other.Group
        && Timestamp == other.Timestamp && Payload.Span.SequenceEqual(other.Payload.Span);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(SubscribeId, Group, Timestamp, Payload.Length);
}
