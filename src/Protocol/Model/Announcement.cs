using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A change in the set of broadcasts: <paramref name="Broadcast"/> non-null means the path is (now) served by
/// that broadcast — a second active for a live path means it was replaced — and null means it ended.
/// </summary>
/// <param name="Path">The path, relative to the root of the view that reports it.</param>
/// <param name="Broadcast">The broadcast now serving the path, or null when it ended.</param>
/// <param name="Hops">The origin ids the announcement travelled through, nearest publisher first.</param>
public sealed record Announcement(MoqPath Path, BroadcastConsumer? Broadcast, IReadOnlyList<ulong> Hops)
{
    /// <summary>True for an active announcement.</summary>
    public bool IsActive => Broadcast is not null;
}
