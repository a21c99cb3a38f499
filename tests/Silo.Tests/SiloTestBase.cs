using Xunit.Abstractions;

namespace MoqCluster.Silo.Tests;

/// <summary>Starting silos and reading their feeds, with everything disposed at the end of a test.</summary>
public abstract class SiloTestBase(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Hang guard for waits (not a speed assertion).</summary>
    protected static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>Test output.</summary>
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>Unique key prefix so tests sharing a store never meet.</summary>
    protected string KeyPrefix { get; } = $"/t{Guid.NewGuid():N}/";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
    }

    /// <summary>Start a silo named <paramref name="nodeId"/>.</summary>
    protected async Task<ClusterSilo> StartSiloAsync(string nodeId, IReadOnlyList<Uri>? etcd = null, IClusterStore? store = null, TimeSpan? ttl = null)
    {
        var options = new ClusterOptions
        {
            NodeId = nodeId,
            EtcdEndpoints = etcd ?? [],
            AdvertiseUrl = $"tcp://{nodeId}.test:4444",
            Region = "test",
            LeaseTtl = ttl ?? ClusterOptions.DefaultLeaseTtl,
            KeyPrefix = KeyPrefix,
        };
        var silo = new ClusterSilo(options, store);
        _owned.Add(silo);
        await silo.StartAsync();
        return silo;
    }

    /// <summary>Record a silo's directory feed.</summary>
    protected FeedRecorder<DirectoryChange> RecordDirectory(ClusterSilo silo) => Own(new FeedRecorder<DirectoryChange>(silo.Directory.WatchAsync));

    /// <summary>Record a silo's membership feed.</summary>
    protected FeedRecorder<MemberChange> RecordMembers(ClusterSilo silo) => Own(new FeedRecorder<MemberChange>(silo.Membership.WatchAsync));

    /// <summary>Dispose <paramref name="item"/> at the end of the test.</summary>
    protected T Own<T>(T item)
        where T : IAsyncDisposable
    {
        _owned.Add(item);
        return item;
    }

    /// <summary>Wait until every silo lists every node id.</summary>
    protected static Task AllSeeAllAsync(params ClusterSilo[] silos) =>
        Eventually.TrueAsync(
            () => silos.All(s => silos.All(o => s.Membership.Find(o.Self.NodeId) is not null)),
            Guard,
            "every silo lists every node");

    /// <summary>Predicate: a change of <paramref name="kind"/> for <paramref name="path"/> from <paramref name="node"/>.</summary>
    protected static Func<DirectoryChange, bool> Is(DirectoryChangeKind kind, string path, string node) =>
        c => c.Kind == kind && c.Entry.Path == path && c.Entry.NodeId == node;
}
