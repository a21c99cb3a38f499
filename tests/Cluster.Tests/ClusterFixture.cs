using MoqCluster.Protocol.Client;

namespace MoqCluster.Cluster.Tests;

/// <summary>
/// A shared cluster (3 etcd members, edges <c>edge1</c>..<c>edge3</c>, lease TTL 3 s) for tests that do not break it.
/// It is warmed up with one cross-edge flow, so tests do not meet cold (JIT-compiling) edges.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private LocalCluster? _cluster;

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    public async Task InitializeAsync()
    {
        await NodeInterop.EnsureInstalledAsync();
        _cluster = await LocalCluster.StartAsync(edges: 3, leaseTtl: 3);
        await WarmUpAsync(_cluster);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }

    /// <summary>Publishes on edge 1 and reads 3 groups on every other edge.</summary>
    public static async Task WarmUpAsync(LocalCluster cluster)
    {
        var guard = TimeSpan.FromSeconds(60);
        var path = $"warmup/{Guid.NewGuid():N}";
        await using var publisher = await MoqClient.ConnectAsync(new Uri(cluster.Edges[0].AnonUrl));
        var broadcast = publisher.Publish(path);
        var video = broadcast.CreateTrack("video");
        await using var writer = new TrackWriter(video, 0, TimeSpan.FromMilliseconds(50));
        foreach (var edge in cluster.Edges.Skip(1))
        {
            await using var subscriber = await MoqClient.ConnectAsync(new Uri(edge.AnonUrl));
            using var announced = new AnnouncementLog(subscriber.Announced("warmup"));
            var (consumer, _) = await announced.WaitAsync(path, active: true, guard, describe: () => cluster.DescribeLogs());
            using var log = new TrackLog(consumer!.Subscribe("video"), 3);
            var first = await log.WaitForAsync(0, guard, () => cluster.DescribeLogs());
            await log.WaitForAsync(first.Sequence + 3, guard, () => cluster.DescribeLogs());
        }
        broadcast.Finish();
    }
}
