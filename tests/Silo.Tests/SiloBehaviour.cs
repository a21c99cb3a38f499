using System.Diagnostics;
using Xunit.Abstractions;

namespace MoqCluster.Silo.Tests;

/// <summary>
/// Membership and directory behaviour that must hold on any store: run on the shared in-memory
/// store (several silos in one process) and on a real etcd.
/// </summary>
public abstract class SiloBehaviour(ITestOutputHelper output) : SiloTestBase(output)
{
    /// <summary>Start a silo on the store under test.</summary>
    protected abstract Task<ClusterSilo> StartAsync(string nodeId);

    [Fact]
    public async Task Three_silos_see_each_other_and_a_graceful_stop_leaves_at_once()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var c = await StartAsync("c");
        await AllSeeAllAsync(a, b, c);
        Assert.Equal("tcp://b.test:4444", a.Membership.Find("b")!.AdvertiseUrl);
        Assert.Equal(b.Self.OriginId, c.Membership.Find("b")!.OriginId);
        Assert.True(a.IsConnected);

        var members = RecordMembers(a);
        await c.StopAsync();
        await members.WaitForAsync(m => m.Kind == MemberChangeKind.Left && m.Node.NodeId == "c", Guard, "c left");
        // b follows its own watch, which may trail a's by a moment.
        await Eventually.TrueAsync(() => b.Membership.Find("c") is null, Guard, "b to see c leave");
    }

    [Fact]
    public async Task Directory_registrations_and_removals_reach_the_other_nodes_feeds()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var feed = RecordDirectory(b);

        var entry = await a.Directory.RegisterAsync("anon/room1");
        await a.Directory.RegisterAsync("anon/room1/sub");
        var seen = await feed.WaitForAsync(Is(DirectoryChangeKind.Added, "anon/room1", "a"), Guard, "anon/room1 added");
        Assert.Equal(entry, seen.Entry);
        Assert.Equal(a.Self.OriginId, seen.Entry.OriginId);
        await feed.WaitForAsync(Is(DirectoryChangeKind.Added, "anon/room1/sub", "a"), Guard, "anon/room1/sub added");
        Assert.Equal(entry, b.Directory.Current("anon/room1"));

        Assert.True(await a.Directory.UnregisterAsync("anon/room1"));
        Assert.False(await a.Directory.UnregisterAsync("anon/room1"));
        await feed.WaitForAsync(Is(DirectoryChangeKind.Removed, "anon/room1", "a"), Guard, "anon/room1 removed");
        Assert.Null(b.Directory.Current("anon/room1"));
        Assert.NotNull(b.Directory.Current("anon/room1/sub")); // a path is one segment: its children are untouched
    }

    [Fact]
    public async Task A_reregistration_on_another_node_gets_a_higher_epoch_and_wins_everywhere()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var c = await StartAsync("c");
        var first = await a.Directory.RegisterAsync("live/show");
        await Eventually.TrueAsync(() => b.Directory.Current("live/show") == first, Guard, "b sees a's entry");

        // The publisher reconnects to b while a still lists it (a stale publisher).
        var second = await b.Directory.RegisterAsync("live/show");
        Assert.True(second.Epoch > first.Epoch, $"{second.Epoch} > {first.Epoch}");
        Assert.True(second.IsNewerThan(first));
        foreach (var silo in new[] { a, b, c })
        {
            await Eventually.TrueAsync(() => silo.Directory.Current("live/show") == second, Guard, $"{silo.Self.NodeId} sees b win");
            Assert.Equal([second, first], silo.Directory.Lookup("live/show"));
        }

        // Re-registering on the same node moves its own epoch up again.
        var third = await a.Directory.RegisterAsync("live/show");
        Assert.True(third.Epoch > second.Epoch);
        await Eventually.TrueAsync(() => c.Directory.Current("live/show") == third, Guard, "c sees a win again");
    }

    [Fact]
    public async Task A_crashed_node_expires_within_its_ttl_and_its_broadcasts_are_removed_on_every_feed()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b");
        var c = await StartAsync("c");
        await a.Directory.RegisterAsync("crash/one");
        await a.Directory.RegisterAsync("crash/two");
        await Eventually.TrueAsync(() => b.Directory.Current("crash/two") is not null && c.Directory.Current("crash/two") is not null, Guard, "entries everywhere");
        var bFeed = RecordDirectory(b);
        var cFeed = RecordDirectory(c);
        var bMembers = RecordMembers(b);

        var clock = Stopwatch.StartNew();
        await a.CrashAsync(); // no revoke: the lease must expire on its own
        await Task.WhenAll(
            bFeed.WaitForAsync(Is(DirectoryChangeKind.Removed, "crash/one", "a"), Guard, "b: crash/one removed"),
            bFeed.WaitForAsync(Is(DirectoryChangeKind.Removed, "crash/two", "a"), Guard, "b: crash/two removed"),
            cFeed.WaitForAsync(Is(DirectoryChangeKind.Removed, "crash/two", "a"), Guard, "c: crash/two removed"),
            bMembers.WaitForAsync(m => m.Kind == MemberChangeKind.Left && m.Node.NodeId == "a", Guard, "b: a left"));
        var took = clock.Elapsed;
        var ttl = a.Options.LeaseTtl;
        Output.WriteLine($"{GetType().Name}: crash → deletion seen on the other nodes' feeds after {took.TotalMilliseconds:F0} ms (lease TTL {ttl.TotalSeconds} s)");
        // The promise is TTL + 1 s; the margin absorbs a loaded 2-core machine.
        Assert.True(took < ttl + TimeSpan.FromSeconds(3), $"took {took}");
        Assert.Null(b.Membership.Find("a"));
    }
}

public sealed class InMemorySiloTests(ITestOutputHelper output) : SiloBehaviour(output)
{
    private readonly InMemoryClusterStore _store = new();

    protected override Task<ClusterSilo> StartAsync(string nodeId) =>
        StartSiloAsync(nodeId, store: _store, ttl: TimeSpan.FromSeconds(2));

    [Fact]
    public async Task A_single_node_works_with_no_configuration()
    {
        await using var silo = new ClusterSilo(new ClusterOptions());
        await silo.StartAsync();
        Assert.True(silo.IsConnected);
        Assert.IsType<InMemoryClusterStore>(silo.Store);
        var entry = await silo.Directory.RegisterAsync("solo");
        Assert.Equal(entry, silo.Directory.Current("solo"));
        Assert.Single(silo.Membership.Members);
    }
}

[Collection("etcd")]
public sealed class EtcdSiloTests(SingleEtcd etcd, ITestOutputHelper output) : SiloBehaviour(output)
{
    protected override Task<ClusterSilo> StartAsync(string nodeId) => StartSiloAsync(nodeId, etcd.Cluster.Endpoints);
}
