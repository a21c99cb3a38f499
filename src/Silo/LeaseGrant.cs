namespace MoqCluster.Silo;

/// <summary>A granted lease.</summary>
/// <param name="Id">The lease id (a full 63-bit number in etcd).</param>
/// <param name="Ttl">The time to live the store granted, which may exceed the one asked for.</param>
public sealed record LeaseGrant(long Id, TimeSpan Ttl);
