using System.Diagnostics;
using System.Text;

namespace MoqCluster.Silo.Tests;

/// <summary>
/// The semantics every <see cref="IClusterStore"/> must have, run against the in-memory store and
/// against a real etcd, so the single-node default behaves exactly like the cluster.
/// </summary>
public abstract class StoreContract
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(15);

    /// <summary>The store under test.</summary>
    protected abstract IClusterStore Store { get; }

    /// <summary>Unique per test, so tests sharing one etcd never see each other's keys.</summary>
    protected string Prefix { get; } = $"/contract/{Guid.NewGuid():N}/";

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(byte[] b) => Encoding.UTF8.GetString(b);

    [Fact]
    public async Task Put_get_prefix_and_delete()
    {
        var r1 = await Store.PutAsync(Prefix + "b", B("2"));
        var r2 = await Store.PutAsync(Prefix + "a", B("1"));
        var r3 = await Store.PutAsync(Prefix + "a/x", B("3"));
        await Store.PutAsync(Prefix.TrimEnd('/') + "0", B("outside")); // the byte after '/': just past the prefix
        Assert.True(r1 < r2 && r2 < r3);

        var range = await Store.GetPrefixAsync(Prefix);
        Assert.Equal(["a", "a/x", "b"], range.Entries.Select(e => e.Key[Prefix.Length..]));
        Assert.True(range.Revision >= r3);
        var a = await Store.GetAsync(Prefix + "a");
        Assert.Equal("1", S(a!.Value));
        Assert.Equal(r2, a.ModRevision);
        Assert.Equal(1, a.Version);

        await Store.PutAsync(Prefix + "a", B("1b"));
        a = await Store.GetAsync(Prefix + "a");
        Assert.Equal(2, a!.Version);
        Assert.Equal(r2, a.CreateRevision);

        Assert.True(await Store.DeleteAsync(Prefix + "a"));
        Assert.False(await Store.DeleteAsync(Prefix + "a"));
        Assert.Null(await Store.GetAsync(Prefix + "a"));
        Assert.Empty((await Store.GetPrefixAsync(Prefix + "nothing/")).Entries);
    }

    [Fact]
    public async Task Compare_and_put_creates_if_absent_and_fences_on_mod_revision()
    {
        var key = Prefix + "lock";
        var won = await Store.CompareAndPutAsync(key, B("node1"), 0);
        Assert.True(won.Succeeded);
        var lost = await Store.CompareAndPutAsync(key, B("node2"), 0);
        Assert.False(lost.Succeeded);
        Assert.Equal("node1", S(lost.Current!.Value));
        Assert.Equal(won.Revision, lost.Current.ModRevision);

        var stale = await Store.CompareAndPutAsync(key, B("node3"), won.Revision - 1);
        Assert.False(stale.Succeeded);
        var next = await Store.CompareAndPutAsync(key, B("node3"), won.Revision);
        Assert.True(next.Succeeded);
        Assert.Equal("node3", S((await Store.GetAsync(key))!.Value));
    }

    [Fact]
    public async Task Watch_replays_from_a_revision_then_follows_live_changes_under_its_prefix_only()
    {
        await Store.PutAsync(Prefix + "w/1", B("one"));
        var second = await Store.PutAsync(Prefix + "w/2", B("two"));
        await Store.DeleteAsync(Prefix + "w/1");
        using var cts = new CancellationTokenSource(Guard);
        var seen = new List<WatchEvent>();
        await using var e = Store.WatchAsync(Prefix + "w/", second, cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await e.MoveNextAsync());
        Assert.Equal((WatchEventKind.Put, Prefix + "w/2", "two", second), (e.Current.Kind, e.Current.Key, S(e.Current.Value), e.Current.ModRevision));
        Assert.True(await e.MoveNextAsync());
        Assert.Equal((WatchEventKind.Delete, Prefix + "w/1"), (e.Current.Kind, e.Current.Key));

        await Store.PutAsync(Prefix + "elsewhere", B("x"));
        var live = await Store.PutAsync(Prefix + "w/3", B("three"));
        Assert.True(await e.MoveNextAsync());
        Assert.Equal((Prefix + "w/3", live), (e.Current.Key, e.Current.ModRevision));
    }

    [Fact]
    public async Task Expired_lease_deletes_its_keys_the_watch_sees_it_and_the_lease_is_gone()
    {
        var lease = await Store.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        var rev = await Store.PutAsync(Prefix + "l/a", B("a"), lease.Id);
        await Store.PutAsync(Prefix + "l/b", B("b"), lease.Id);
        using var cts = new CancellationTokenSource(Guard);
        var clock = Stopwatch.StartNew();
        var deleted = new HashSet<string>();
        await foreach (var e in Store.WatchAsync(Prefix + "l/", rev + 1, cts.Token))
        {
            if (e.Kind == WatchEventKind.Delete && deleted.Add(e.Key) && deleted.Count == 2)
            {
                break;
            }
        }

        // Hang guard only: the store's lessor decides the exact moment.
        Assert.True(clock.Elapsed < lease.Ttl + TimeSpan.FromSeconds(5), $"expiry took {clock.Elapsed}");
        Assert.False(await Store.KeepAliveAsync(lease.Id));
        await Assert.ThrowsAsync<LeaseNotFoundException>(() => Store.PutAsync(Prefix + "l/c", B("c"), lease.Id));
        Assert.Empty((await Store.GetPrefixAsync(Prefix + "l/")).Entries);
    }

    [Fact]
    public async Task Keepalive_holds_keys_past_the_ttl_and_revoke_deletes_them()
    {
        var lease = await Store.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        await Store.PutAsync(Prefix + "k", B("v"), lease.Id);
        var until = Stopwatch.StartNew();
        while (until.Elapsed < lease.Ttl + TimeSpan.FromSeconds(1))
        {
            Assert.True(await Store.KeepAliveAsync(lease.Id));
            await Task.Delay(lease.Ttl / 4);
        }

        Assert.True(await Store.GetAsync(Prefix + "k") is not null, $"key gone after {until.Elapsed}; lease alive: {await Store.KeepAliveAsync(lease.Id)}");
        Assert.Equal(lease.Id, (await Store.GetAsync(Prefix + "k"))!.LeaseId);
        await Store.RevokeLeaseAsync(lease.Id);
        Assert.Null(await Store.GetAsync(Prefix + "k"));
        await Store.RevokeLeaseAsync(lease.Id); // unknown lease: ignored
    }
}
