using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// ANNOUNCE_INIT (lite-01/02 only): the publisher's first message on an Announce stream, listing
/// the currently active broadcasts as suffixes of the requested prefix (spec §4.3).
/// </summary>
/// <param name="Suffixes">Active broadcast suffixes; at most <see cref="ProtocolLimits.MaxAnnounceCount"/>.</param>
public sealed record AnnounceInit(IReadOnlyList<MoqPath> Suffixes) : IMessage<AnnounceInit>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasAnnounceInit();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WriteVarInt((ulong)Suffixes.Count);
        for (var i = 0; i < Suffixes.Count; i++)
            writer.WritePath(Suffixes[i]);
    }

    /// <inheritdoc />
    public static AnnounceInit DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var count = reader.ReadCount(reader.Limits.MaxAnnounceCount, "ANNOUNCE_INIT count");
        var suffixes = SequenceEquality.BoundedList<MoqPath>(count, reader.Remaining);
        for (var i = 0; i < count; i++)
            suffixes.Add(reader.ReadPath());
        return new AnnounceInit(suffixes);
    }

    /// <inheritdoc />
    public bool Equals(AnnounceInit? other) => other is not null && SequenceEquality.Equal(Suffixes, other.Suffixes);

    /// <inheritdoc />
    public override int GetHashCode() => SequenceEquality.Hash(Suffixes);
}
