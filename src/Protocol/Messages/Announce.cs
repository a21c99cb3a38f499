using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// ANNOUNCE (spec §4.3): a broadcast under the requested prefix became active or ended. The hop
/// chain is version dependent: absent on lite-01/02, a bare count on lite-03, an origin id list
/// on lite-04/05.
/// </summary>
public sealed record Announce : IMessage<Announce>
{
    /// <summary>Wire value of the lite-05 "restart" status, decoded as <see cref="AnnounceStatus.Active"/>.</summary>
    public const byte RestartStatus = 2;

    private readonly int? _hopCount;

    /// <summary>Creates an announcement.</summary>
    /// <param name="status">Active or ended.</param>
    /// <param name="suffix">Broadcast path relative to the stream's prefix.</param>
    /// <param name="hops">Origin ids of the chain (lite-04/05); empty when unknown.</param>
    /// <param name="hopCount">lite-03 chain length when no ids are known; defaults to the number of <paramref name="hops"/>.</param>
    public Announce(AnnounceStatus status, MoqPath suffix, IReadOnlyList<ulong>? hops = null, int? hopCount = null)
    {
        Status = status;
        Suffix = suffix;
        Hops = hops ?? [];
        _hopCount = hopCount;
    }

    /// <summary>Active or ended.</summary>
    public AnnounceStatus Status { get; init; }

    /// <summary>Broadcast path relative to the prefix of the ANNOUNCE_PLEASE that opened the stream.</summary>
    public MoqPath Suffix { get; init; }

    /// <summary>Origin ids of the hop chain (lite-04/05); empty when only a count is known (lite-03) or none.</summary>
    public IReadOnlyList<ulong> Hops { get; init; }

    /// <summary>Length of the hop chain: the lite-03 wire count, else the number of <see cref="Hops"/>.</summary>
    public int HopCount
    {
        get => _hopCount ?? Hops.Count;
        init => _hopCount = value;
    }

    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => true;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        if (Status is not (AnnounceStatus.Active or AnnounceStatus.Ended))
            throw new ProtocolException(MoqErrorCode.Encode, $"invalid announce status {Status}");
        writer.WriteU8((byte)Status);
        writer.WritePath(Suffix);
        if (version.HasHopCount())
        {
            writer.WriteVarInt(HopCount);
        }
        else if (version.HasHopIds())
        {
            writer.WriteVarInt(Hops.Count);
            // Indexing avoids boxing the list enumerator on this per-announce path.
            for (var i = 0; i < Hops.Count; i++)
                writer.WriteU53(Hops[i]);
        }
    }

    /// <inheritdoc />
    public static Announce DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var status = reader.ReadU8() switch
        {
            0 => AnnounceStatus.Ended,
            1 => AnnounceStatus.Active,
            RestartStatus when version.AllowsAnnounceRestart() => AnnounceStatus.Active,
            var b => throw new DecodeException($"invalid announce status {b} for {version.Name()}"),
        };
        var suffix = reader.ReadPath();
        if (version.HasHopCount())
            return new Announce(status, suffix, [], reader.ReadCount(reader.Limits.MaxHops, "hop count"));
        if (!version.HasHopIds())
            return new Announce(status, suffix);
        var count = reader.ReadCount(reader.Limits.MaxHops, "hop count");
        var hops = SequenceEquality.BoundedList<ulong>(count, reader.Remaining);
        for (var i = 0; i < count; i++)
            hops.Add(reader.ReadVarInt());
        return new Announce(status, suffix, hops);
    }

    /// <inheritdoc />
    public bool Equals(Announce? other) => other is not null && Status == other.Status && Suffix == other.Suffix
        && HopCount == other.HopCount && SequenceEquality.Equal(Hops, other.Hops);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Status, Suffix, HopCount, SequenceEquality.Hash(Hops));
}
