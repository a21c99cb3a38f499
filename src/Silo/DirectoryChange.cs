namespace MoqCluster.Silo;

/// <summary>A change to the broadcast directory: one node's entry for one path.</summary>
/// <param name="Kind">Added, updated or removed.</param>
/// <param name="Entry">The entry (its last known value when removed).</param>
public sealed record DirectoryChange(DirectoryChangeKind Kind, BroadcastEntry Entry);
