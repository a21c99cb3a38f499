namespace MoqCluster.Grains;

/// <summary>A snapshot of one edge-to-edge link, for the edge's status endpoint.</summary>
/// <param name="NodeId">The remote edge.</param>
/// <param name="Url">Where it is dialled.</param>
/// <param name="Connected">True while a session is up.</param>
/// <param name="UpstreamSubscriptions">Live subscriptions this edge holds over the link (one per track routed through it).</param>
public sealed record ClusterLinkStatus(string NodeId, string Url, bool Connected, int UpstreamSubscriptions);
