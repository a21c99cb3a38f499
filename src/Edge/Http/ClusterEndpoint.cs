using System.Net;
using MoqCluster.Edge.Cluster;
using MoqCluster.Edge.Relay;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Edge.Http;

/// <summary>
/// <c>GET /cluster</c>: this edge's view of the cluster as JSON — node and origin id, whether the store (etcd) is
/// reachable, the live members, the directory size, active grains, and every edge-to-edge link with the number of
/// upstream subscriptions it carries (one per track routed through it, however many local subscribers). It names
/// internal addresses, so only loopback callers and holders of the cluster credential (<c>?jwt=</c>) may read it
/// (403 otherwise).
/// </summary>
internal static class ClusterEndpoint
{
    public static async Task<IResult> Handle(HttpContext context, EdgeCluster cluster, RelayHost relay)
    {
        var caller = context.Connection.RemoteIpAddress;
        var trusted = caller is not null && IPAddress.IsLoopback(caller.IsIPv4MappedToIPv6 ? caller.MapToIPv4() : caller);
        if (!trusted && !(relay.ClusterCredential is { } credential && await credential.VerifyAsync(context.Request.Query[MoqWebSocketAcceptor.JwtQueryParameter])))
            return Results.StatusCode(StatusCodes.Status403Forbidden);

        var silo = cluster.Silo;
        return Results.Json(new
        {
            nodeId = silo.Self.NodeId,
            originId = silo.Self.OriginId,
            advertiseUrl = silo.Self.AdvertiseUrl,
            clustered = silo.Options.IsClustered,
            storeConnected = silo.IsConnected,
            members = silo.Membership.Members.Keys.Order(StringComparer.Ordinal).ToList(),
            directory = silo.Directory.Snapshot().Count,
            grains = cluster.Catalog.Grains.Count,
            links = cluster.Links.Status.Select(l => new { nodeId = l.NodeId, url = l.Url, connected = l.Connected, upstreamSubscriptions = l.UpstreamSubscriptions }),
        });
    }
}
