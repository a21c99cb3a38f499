using System.Text;

namespace MoqCluster.Silo.Tests;

/// <summary>One etcd member shared by the tests of a class.</summary>
public sealed class SingleEtcd : IAsyncLifetime
{
    /// <summary>The member.</summary>
    public EtcdCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await EtcdCluster.StartAsync(1, fastElections: true);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Tests that start etcd members run one at a time: they measure lease timing on 2 shared cores.</summary>
[CollectionDefinition("etcd")]
public sealed class EtcdCollection : ICollectionFixture<SingleEtcd>
{
}

[Collection("etcd")]
public sealed class EtcdStoreTests(SingleEtcd etcd) : StoreContract, IAsyncLifetime
{
    private readonly EtcdClusterStore _store = new(etcd.Cluster.Endpoints);

    protected override IClusterStore Store => _store;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Watch_from_a_compacted_revision_reports_history_lost()
    {
        var rev = await _store.PutAsync(Prefix + "a", "1"u8.ToArray());
        var rev2 = await _store.PutAsync(Prefix + "a", "2"u8.ToArray());
        using (var http = new HttpClient())
        {
            var body = new StringContent($"{{\"revision\":\"{rev2}\",\"physical\":true}}", Encoding.UTF8, "application/json");
            (await http.PostAsync(new Uri(etcd.Cluster.Endpoints[0], "/v3/kv/compaction"), body)).EnsureSuccessStatusCode();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var lost = await Assert.ThrowsAsync<WatchHistoryLostException>(async () =>
        {
            await foreach (var _ in _store.WatchAsync(Prefix, rev, cts.Token))
            {
            }
        });
        Assert.Equal(rev2, lost.CompactRevision);
    }

    [Fact]
    public async Task A_dead_first_endpoint_fails_over_to_the_next()
    {
        var dead = new Uri($"http://127.0.0.1:{MoqCluster.TestSupport.FreePort.Get()}");
        await using var store = new EtcdClusterStore([dead, .. etcd.Cluster.Endpoints]);
        var rev = await store.PutAsync(Prefix + "f", "1"u8.ToArray());
        Assert.True(rev > 0);
        Assert.Equal(etcd.Cluster.Endpoints[0], store.CurrentEndpoint);
    }

    [Fact]
    public async Task No_reachable_endpoint_is_unavailable()
    {
        await using var store = new EtcdClusterStore([new Uri($"http://127.0.0.1:{MoqCluster.TestSupport.FreePort.Get()}")]);
        await Assert.ThrowsAsync<ClusterStoreUnavailableException>(() => store.GetAsync("/x"));
    }
}
