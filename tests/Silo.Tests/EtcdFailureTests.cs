using System.Diagnostics;
using Xunit.Abstractions;

namespace MoqCluster.Silo.Tests;

/// <summary>etcd members dying under running silos: failover to the quorum, and a full outage with resynchronisation.</summary>
[Collection("etcd")]
public sealed class EtcdFailureTests(ITestOutputHelper output) : SiloTestBase(output)
{
    [Fact]
    public async Task Killing_one_member_of_three_keeps_leases_watches_and_writes_working()
    {
        var etcd = Own(await EtcdCluster.StartAsync(3));
        var a = await StartSiloAsync("a", etcd.Endpoints);
        var b = await StartSiloAsync("b", etcd.Endpoints);
        await AllSeeAllAsync(a, b);
        var bFeed = RecordDirectory(b);
        var bMembers = RecordMembers(b);
        await a.Directory.RegisterAsync("quorum/before");
        await bFeed.WaitForAsync(Is(DirectoryChangeKind.Added, "quorum/before", "a"), Guard, "quorum/before");

        // Member 0 is where both silos' calls and watches go first.
        var clock = Stopwatch.StartNew();
        await etcd.KillAsync(0);
        await a.Directory.RegisterAsync("quorum/after");
        await bFeed.WaitForAsync(Is(DirectoryChangeKind.Added, "quorum/after", "a"), Guard, "quorum/after");
        Output.WriteLine($"member 0 SIGKILLed → a write on a reached b's feed after {clock.ElapsedMilliseconds} ms");
        Assert.True(await a.Directory.UnregisterAsync("quorum/before"));
        await bFeed.WaitForAsync(Is(DirectoryChangeKind.Removed, "quorum/before", "a"), Guard, "quorum/before removed");

        // Outlive a lease TTL on the survivors: nobody's lease may lapse.
        await Task.Delay(a.Options.LeaseTtl + TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(bMembers.Items, m => m.Kind == MemberChangeKind.Left);
        Assert.DoesNotContain(bFeed.Items, c => Is(DirectoryChangeKind.Removed, "quorum/after", "a")(c));
        Assert.NotNull(b.Membership.Find("a"));
        Assert.NotNull(a.Membership.Find("b"));
        Assert.True(a.IsConnected && b.IsConnected);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_full_etcd_outage_leaves_local_work_running_and_the_silo_resynchronises_when_etcd_returns(bool freshData)
    {
        var etcd = Own(await EtcdCluster.StartAsync(1, fastElections: true));
        var a = await StartSiloAsync("a", etcd.Endpoints);
        var b = await StartSiloAsync("b", etcd.Endpoints);
        var aFeed = RecordDirectory(a);
        var bFeed = RecordDirectory(b);
        await a.Directory.RegisterAsync("outage/a1");
        await b.Directory.RegisterAsync("outage/b1");
        await aFeed.WaitForAsync(Is(DirectoryChangeKind.Added, "outage/b1", "b"), Guard, "a sees b1");
        await bFeed.WaitForAsync(Is(DirectoryChangeKind.Added, "outage/a1", "a"), Guard, "b sees a1");
        var leaseBefore = a.LeaseId;
        var resyncs = 0;
        a.Resynchronized += () => Interlocked.Increment(ref resyncs);

        await etcd.KillAsync(0);
        await Eventually.TrueAsync(() => !a.IsConnected, Guard, "a notices the outage");

        // Local operation goes on while etcd is gone: registrations take effect locally.
        var offline = await a.Directory.RegisterAsync("outage/a2");
        Assert.Equal(offline, a.Directory.Current("outage/a2"));
        Assert.True(await a.Directory.UnregisterAsync("outage/a1"));
        Assert.NotNull(a.Membership.Find("a"));
        await Task.Delay(a.Options.LeaseTtl + TimeSpan.FromSeconds(0.5)); // longer than a lease TTL

        var clock = Stopwatch.StartNew();
        await etcd.RestartAsync(0, freshData);
        await Eventually.TrueAsync(() => a.IsConnected && b.IsConnected, Guard, "both reconnect");

        // Everything this node owns is back in etcd, and the other node's feed got the differences.
        await bFeed.WaitForAsync(Is(DirectoryChangeKind.Added, "outage/a2", "a"), Guard, "b sees a2 (registered offline)");
        await bFeed.WaitForAsync(Is(DirectoryChangeKind.Removed, "outage/a1", "a"), Guard, "b sees a1 gone (unregistered offline)");
        await Eventually.TrueAsync(() => a.Directory.Current("outage/b1")?.NodeId == "b" && b.Membership.Find("a") is not null && a.Membership.Find("b") is not null, Guard, "views converge");
        Output.WriteLine($"etcd back ({(freshData ? "empty data dir" : "same data dir")}) → b's feed had a's offline changes after {clock.ElapsedMilliseconds} ms; resyncs: {resyncs}");
        Assert.NotNull(await a.Store.GetAsync(a.Keys.Node("a")));
        var stored = await a.Store.GetPrefixAsync(a.Keys.BroadcastsPrefix);
        Assert.Equal(["outage/a2", "outage/b1"], stored.Entries.Select(e => a.Keys.TryParseBroadcast(e.Key, out var p, out _) ? p : "?").Order());
        Assert.True(resyncs >= 1);
        if (freshData)
        {
            Assert.NotEqual(leaseBefore, a.LeaseId); // the old lease died with the data: re-granted
        }

        // The watch feeds carry on from the new revision.
        await b.Directory.RegisterAsync("outage/b2");
        await aFeed.WaitForAsync(Is(DirectoryChangeKind.Added, "outage/b2", "b"), Guard, "a sees b2 after the outage");
        var later = await a.Directory.RegisterAsync("outage/a2");
        Assert.True(later.Epoch > offline.Epoch);
    }
}
