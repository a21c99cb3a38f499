using MoqCluster.Edge.Auth;

namespace MoqCluster.Edge.Tests;

/// <summary>Closing a session when its token expires.</summary>
public sealed class GrantExpiryTests
{
    private readonly ManualClock _clock = new();

    private AccessGrant Grant(TimeSpan? expiresIn)
        => new(default, [], []) { ExpiresAt = expiresIn is { } d ? _clock.GetUtcNow() + d : null };

    [Fact]
    public void NoExpiry_WatchesNothing()
        => Assert.Null(GrantExpiry.Watch(Grant(null), () => Assert.Fail("fired"), _clock));

    [Fact]
    public void FiresOnceWhenTheDeadlinePasses()
    {
        var fired = 0;
        using var expiry = GrantExpiry.Watch(Grant(TimeSpan.FromSeconds(30)), () => fired++, _clock);

        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, fired);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, fired);
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void AlreadyExpired_FiresAtOnce()
    {
        var fired = 0;
        using var expiry = GrantExpiry.Watch(Grant(TimeSpan.FromSeconds(-1)), () => fired++, _clock);

        Assert.Equal(1, fired);
    }

    [Fact]
    public void FarDeadlines_AreReachedInSteps()
    {
        var fired = 0;
        using var expiry = GrantExpiry.Watch(Grant(TimeSpan.FromDays(400)), () => fired++, _clock);

        _clock.Advance(TimeSpan.FromDays(399));
        Assert.Equal(0, fired);
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void Disposed_NeverFires()
    {
        var fired = 0;
        var expiry = GrantExpiry.Watch(Grant(TimeSpan.FromSeconds(5)), () => fired++, _clock)!;

        expiry.Dispose();
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, fired);
    }
}
