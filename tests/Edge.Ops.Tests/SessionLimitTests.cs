using MoqCluster.Edge.Relay;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>Per-session caps: the request over the limit is reset with BoundsExceeded; the others keep flowing.</summary>
public sealed class SessionLimitTests
{
    [Fact]
    public async Task Subscription_over_the_cap_is_reset_with_bounds_exceeded()
    {
        await using var relay = new InProcessRelay(new EdgeOptions { MaxSubscriptionsPerSession = 1 });
        using var metrics = new MetricRecorder(relay.Metrics.Meter);
        var (origin, _, tracks) = RelayScenario.Broadcast("room/limits", "video", "audio");
        await relay.ConnectAsync(MoqVersion.Lite05, origin.Consumer());
        await Poll.UntilAsync(() => relay.Relay.Origin.Find(MoqPath.Parse("anon/room/limits")) is not null, "the broadcast to be announced");
        var (subscriber, _) = await relay.ConnectAsync(MoqVersion.Lite05);
        var broadcast = subscriber.Consume(MoqPath.Parse("room/limits"));

        using var video = broadcast.Subscribe("video");
        await Poll.UntilAsync(() => metrics.Sum("moq.edge.subscriptions") == 1, "the first subscription to be served");
        using var audio = broadcast.Subscribe("audio");
        var refused = await Assert.ThrowsAsync<ProtocolException>(() => RelayScenario.ReadGroupAsync(audio));
        Assert.Equal(MoqErrorCode.BoundsExceeded, refused.Code);
        Assert.Equal(1, metrics.Sum("moq.edge.limits.exceeded", "moq.limit", "subscriptions"));

        RelayScenario.WriteGroup(tracks[0], "still flowing");
        Assert.Equal(["still flowing"], await RelayScenario.ReadGroupAsync(video));
    }

    [Fact]
    public async Task Announce_request_over_the_cap_is_refused_and_counted()
    {
        await using var relay = new InProcessRelay(new EdgeOptions { MaxAnnounceRequestsPerSession = 1 });
        using var metrics = new MetricRecorder(relay.Metrics.Meter);
        var (subscriber, _) = await relay.ConnectAsync(MoqVersion.Lite05);

        using var first = subscriber.Announced(MoqPath.Parse("a"));
        await Poll.UntilAsync(() => metrics.Sum("moq.edge.announce_requests") == 1, "the first announce request to be served");
        using var second = subscriber.Announced(MoqPath.Parse("b"));
        await Poll.UntilAsync(() => metrics.Sum("moq.edge.limits.exceeded", "moq.limit", "announce_requests") == 1, "the second announce request to be refused");
        Assert.Equal(1, metrics.Sum("moq.edge.announce_requests"));
        // One refusal resets that request only; the session stays up.
        Assert.False(subscriber.Closed.IsCompleted);
    }
}
