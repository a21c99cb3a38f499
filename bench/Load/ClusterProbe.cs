using System.Text.Json;

namespace MoqCluster.Bench.Load;

/// <summary>
/// Reads a clustered edge's <c>GET /cluster</c> (loopback callers may) and sums the upstream subscriptions its
/// edge-to-edge links carry: for the cross-edge workload, the subscribers' edge should hold exactly one per track,
/// however many local subscribers read it.
/// </summary>
internal sealed class ClusterProbe(Uri clusterUrl)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The endpoint read.</summary>
    public Uri Url => clusterUrl;

    /// <summary>Upstream subscriptions over every link of the edge, and how many of its links are connected.</summary>
    public async Task<(int Upstreams, int ConnectedLinks)> ReadAsync(CancellationToken cancellationToken)
    {
        await using var body = await Http.GetStreamAsync(clusterUrl, cancellationToken).ConfigureAwait(false);
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
        int upstreams = 0, connected = 0;
        if (json.RootElement.TryGetProperty("links", out var links))
        {
            foreach (var link in links.EnumerateArray())
            {
                if (link.TryGetProperty("upstreamSubscriptions", out var count))
                    upstreams += count.GetInt32();
                if (link.TryGetProperty("connected", out var up) && up.ValueKind == JsonValueKind.True)
                    connected++;
            }
        }
        return (upstreams, connected);
    }
}
