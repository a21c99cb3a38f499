namespace MoqCluster.Silo;

/// <summary>A cluster member as it registers itself (the value of its node key).</summary>
/// <param name="NodeId">Unique node id.</param>
/// <param name="OriginId">The moq-lite origin id it stamps on hop chains (below 2^53).</param>
/// <param name="AdvertiseUrl">How other edges reach it.</param>
/// <param name="Region">Its region.</param>
public sealed record NodeInfo(string NodeId, ulong OriginId, string AdvertiseUrl, string Region);
