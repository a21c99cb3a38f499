using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Session;
using MoqCluster.Silo;

namespace MoqCluster.Grains;

/// <summary>The edge-to-edge links of this edge, one per remote edge, created when a route first needs one.</summary>
/// <param name="token">The cluster credential presented to other edges.</param>
/// <param name="loggers">Logging.</param>
/// <param name="observer">Receives the events of every link session (the edge's metrics), or null.</param>
public sealed class ClusterLinks(string? token, ILoggerFactory loggers, ISessionObserver? observer = null) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ClusterLink> _links = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggers.CreateLogger<ClusterLink>();

    /// <summary>The link to <paramref name="node"/>, replaced when the node's advertised URL changed.</summary>
    public ClusterLink For(NodeInfo node)
    {
        var url = new Uri(node.AdvertiseUrl);
        while (true)
        {
            var link = _links.GetOrAdd(node.NodeId, id => new ClusterLink(id, url, token, _logger, observer));
            if (link.Url == url)
                return link;
            if (_links.TryUpdate(node.NodeId, new ClusterLink(node.NodeId, url, token, _logger, observer), link))
                _ = link.DisposeAsync().AsTask();
        }
    }

    /// <summary>Drops the link to a node that left the cluster.</summary>
    public void Forget(string nodeId)
    {
        if (_links.TryRemove(nodeId, out var link))
            _ = link.DisposeAsync().AsTask();
    }

    /// <summary>Links currently up, by node.</summary>
    public IReadOnlyList<string> Connected => _links.Values.Where(l => l.IsConnected).Select(l => l.NodeId).ToList();

    /// <summary>Every link this edge has, up or down, by node id.</summary>
    public IReadOnlyList<ClusterLinkStatus> Status => _links.Values.Select(l => l.Status).OrderBy(s => s.NodeId, StringComparer.Ordinal).ToList();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var link in _links.Values)
            await link.DisposeAsync().ConfigureAwait(false);
        _links.Clear();
    }
}
