namespace MoqCluster.Silo;

/// <summary>What happened to a directory entry.</summary>
public enum DirectoryChangeKind
{
    /// <summary>A node started publishing the path (or already was when a feed starts).</summary>
    Added,

    /// <summary>The node re-registered the path, with a new epoch.</summary>
    Updated,

    /// <summary>The node stopped publishing the path, or the node died (its lease expired).</summary>
    Removed,
}
