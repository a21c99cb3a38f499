using System.Diagnostics;

namespace MoqCluster.TestSupport;

/// <summary>
/// A whole cluster on loopback: a 3-member etcd and N edge processes (<c>edge1</c>…) sharing a cluster secret.
/// Everything is a child process killed by PID on dispose, even when a test fails.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private LocalCluster(EtcdCluster etcd, IReadOnlyList<EdgeProcess> edges, TimeSpan leaseTtl)
    {
        Etcd = etcd;
        Edges = edges;
        LeaseTtl = leaseTtl;
    }

    /// <summary>The etcd members.</summary>
    public EtcdCluster Etcd { get; }

    /// <summary>The edges, <c>edge1</c> first.</summary>
    public IReadOnlyList<EdgeProcess> Edges { get; }

    /// <summary>The edges' lease TTL (<c>--Cluster:LeaseTtl</c>).</summary>
    public TimeSpan LeaseTtl { get; }

    /// <summary>Starts etcd and the edges, then waits until every edge sees every other as a member.</summary>
    /// <param name="edges">Number of edges.</param>
    /// <param name="leaseTtl">Lease TTL of the edges (whole seconds).</param>
    /// <param name="log">Receives every edge output line.</param>
    public static async Task<LocalCluster> StartAsync(int edges = 3, int leaseTtl = 3, Action<string>? log = null)
    {
        var etcd = await EtcdCluster.StartAsync(3);
        var started = Enumerable.Range(1, edges).Select(i => new EdgeProcess($"edge{i}", log: log)).ToList();
        try
        {
            var secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            await Task.WhenAll(started.Select(edge => edge.StartAsync(
                $"--Cluster:Etcd={etcd.EndpointList}", $"--Cluster:Secret={secret}", $"--Cluster:LeaseTtl={leaseTtl}s")));
            var cluster = new LocalCluster(etcd, started.OrderBy(e => e.NodeId, StringComparer.Ordinal).ToList(), TimeSpan.FromSeconds(leaseTtl));
            await cluster.WaitMembersAsync(cluster.Edges, TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            // Task.WhenAll waited for every start, so no edge is still starting while we kill them.
            foreach (var edge in started)
            {
                await edge.DisposeAsync();
            }

            await etcd.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until each edge of <paramref name="edges"/> lists exactly those edges as members.</summary>
    public async Task WaitMembersAsync(IReadOnlyList<EdgeProcess> edges, TimeSpan timeout)
    {
        var expected = edges.Select(e => e.NodeId).Order(StringComparer.Ordinal).ToList();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var views = await Task.WhenAll(edges.Select(e => e.MembersAsync()));
            if (views.All(v => v.Order(StringComparer.Ordinal).SequenceEqual(expected)))
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"edges did not converge on members [{string.Join(',', expected)}] within {timeout}: " +
                    string.Join("; ", edges.Zip(views, (e, v) => $"{e.NodeId} sees [{string.Join(',', v)}]")) + "\n" +
                    string.Join("\n", edges.Select(e => e.DescribeLog(15))));
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Every edge's log tail, for failure messages.</summary>
    public string DescribeLogs(int lines = 25) => string.Join("\n", Edges.Select(e => e.DescribeLog(lines)));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var edge in Edges)
        {
            await edge.DisposeAsync();
        }

        await Etcd.DisposeAsync();
    }
}
