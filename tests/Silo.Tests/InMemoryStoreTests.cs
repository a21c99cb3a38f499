namespace MoqCluster.Silo.Tests;

public sealed class InMemoryStoreTests : StoreContract, IAsyncLifetime
{
    private readonly InMemoryClusterStore _store = new();

    protected override IClusterStore Store => _store;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Watch_from_a_compacted_revision_reports_history_lost()
    {
        var rev = await _store.PutAsync(Prefix + "a", "1"u8.ToArray());
        await _store.PutAsync(Prefix + "a", "2"u8.ToArray());
        _store.Compact(rev);
        await Assert.ThrowsAsync<WatchHistoryLostException>(async () =>
        {
            await foreach (var _ in _store.WatchAsync(Prefix, rev))
            {
            }
        });
    }

    [Fact]
    public async Task Lease_expiry_follows_the_clock()
    {
        var clock = new ManualClock();
        await using var store = new InMemoryClusterStore(clock);
        var lease = await store.GrantLeaseAsync(TimeSpan.FromSeconds(3));
        await store.PutAsync("/k", "v"u8.ToArray(), lease.Id);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await store.KeepAliveAsync(lease.Id)); // renewed: 3 s from now
        clock.Advance(TimeSpan.FromSeconds(2.5));
        store.ExpireLeases();
        Assert.NotNull(await store.GetAsync("/k"));
        clock.Advance(TimeSpan.FromSeconds(1));
        store.ExpireLeases();
        Assert.Null(await store.GetAsync("/k"));
        Assert.False(await store.KeepAliveAsync(lease.Id));
    }

    [Fact]
    public async Task A_lease_revocation_is_one_revision()
    {
        var lease = await _store.GrantLeaseAsync(TimeSpan.FromSeconds(5));
        await _store.PutAsync(Prefix + "x", "1"u8.ToArray(), lease.Id);
        var before = await _store.PutAsync(Prefix + "y", "1"u8.ToArray(), lease.Id);
        await _store.RevokeLeaseAsync(lease.Id);
        Assert.Equal(before + 1, _store.Revision);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
