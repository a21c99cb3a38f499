namespace MoqCluster.Silo;

/// <summary>A change in the live member set.</summary>
/// <param name="Kind">Joined, updated or left.</param>
/// <param name="Node">The member (its last known registration when it left).</param>
public sealed record MemberChange(MemberChangeKind Kind, NodeInfo Node);
