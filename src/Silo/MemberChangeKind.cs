namespace MoqCluster.Silo;

/// <summary>What happened to a member.</summary>
public enum MemberChangeKind
{
    /// <summary>The node registered (or is already listed when a feed starts).</summary>
    Joined,

    /// <summary>The node re-registered with different information.</summary>
    Updated,

    /// <summary>The node's key vanished: it stopped, or its lease expired.</summary>
    Left,
}
