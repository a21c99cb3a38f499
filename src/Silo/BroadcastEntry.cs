namespace MoqCluster.Silo;

/// <summary>
/// One node's claim to publish one broadcast path (the value of a broadcast key). When several
/// nodes list the same path, the newest claim wins: the highest <see cref="Epoch"/>, ties (possible
/// only for claims made while etcd was unreachable) broken by the ordinal order of node ids — a
/// rule every node evaluates to the same answer.
/// </summary>
/// <param name="Path">The broadcast path (normalised by the caller).</param>
/// <param name="NodeId">The publishing node.</param>
/// <param name="OriginId">The publishing node's origin id.</param>
/// <param name="AdvertiseUrl">How to reach the publishing node.</param>
/// <param name="Epoch">Cluster-wide increasing number assigned at registration.</param>
public sealed record BroadcastEntry(string Path, string NodeId, ulong OriginId, string AdvertiseUrl, long Epoch)
{
    /// <summary>Orders entries newest first (the winner first).</summary>
    public static IComparer<BroadcastEntry> NewestFirst { get; } = Comparer<BroadcastEntry>.Create(
        (a, b) => a.Epoch != b.Epoch ? b.Epoch.CompareTo(a.Epoch) : string.CompareOrdinal(b.NodeId, a.NodeId));

    /// <summary>True when this claim beats <paramref name="other"/> for the same path.</summary>
    /// <param name="other">Another claim.</param>
    /// <returns>Whether this one wins.</returns>
    public bool IsNewerThan(BroadcastEntry other) => NewestFirst.Compare(this, other) < 0;
}
