using MoqCluster.Edge.Telemetry;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>The <c>MoqCluster.Edge</c> meter moves as a publisher and a subscriber exchange groups through the relay.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Sessions_subscriptions_groups_and_announces_are_counted()
    {
        await using var relay = new InProcessRelay();
        Assert.Equal(EdgeMetrics.MeterName, relay.Metrics.Meter.Name);
        using var metrics = new MetricRecorder(relay.Metrics.Meter);
        var (origin, _, tracks) = RelayScenario.Broadcast("room/metrics", "video");

        var (publisher, _) = await relay.ConnectAsync(MoqVersion.Lite05, origin.Consumer());
        var (subscriber, _) = await relay.ConnectAsync(MoqVersion.Lite04);
        using var feed = subscriber.Announced(MoqPath.Parse("room"));
        await Poll.UntilAsync(() => feed.Initial.Count > 0 || feed.TryNext(out _), "the subscriber to learn the broadcast");

        using var consumer = subscriber.Consume(MoqPath.Parse("room/metrics")).Subscribe("video");
        await Poll.UntilAsync(() => metrics.Sum("moq.edge.subscriptions") == 1 && metrics.Sum("moq.edge.upstream_subscriptions") == 1, "the subscription to reach the publisher");
        for (var i = 0; i < 3; i++)
        {
            RelayScenario.WriteGroup(tracks[0], "hello", "world");
            Assert.Equal(["hello", "world"], await RelayScenario.ReadGroupAsync(consumer));
        }
        await Poll.UntilAsync(() => metrics.Sum("moq.edge.groups.sent") >= 3, "three groups sent");

        Assert.Equal(1, metrics.Sum("moq.edge.sessions", "moq.version", "lite-05"));
        Assert.Equal(1, metrics.Sum("moq.edge.sessions", "moq.version", "lite-04"));
        Assert.Equal(2, metrics.Sum("moq.edge.sessions.opened", "moq.transport", "memory"));
        Assert.Equal(1, metrics.Sum("moq.edge.subscriptions.opened"));
        Assert.Equal(1, metrics.Sum("moq.edge.upstream_subscriptions.opened"));
        Assert.True(metrics.Sum("moq.edge.groups.received") >= 3);
        Assert.True(metrics.Sum("moq.edge.frames.received") >= 6);
        Assert.True(metrics.Sum("moq.edge.bytes.received") >= 30);
        Assert.True(metrics.Sum("moq.edge.frames.sent") >= 6);
        Assert.True(metrics.Sum("moq.edge.bytes.sent") >= 30);
        Assert.Equal(1, metrics.Sum("moq.edge.announces"));
        Assert.Equal(1, metrics.Sum("moq.edge.announce_requests"));
        Assert.True(metrics.Sum("moq.edge.announces.sent") >= 1);

        consumer.Dispose();
        await subscriber.DisposeAsync();
        await publisher.DisposeAsync();
        await Poll.UntilAsync(() => metrics.Sum("moq.edge.sessions") == 0, "both sessions to be counted closed");
        Assert.Equal(2, metrics.Sum("moq.edge.sessions.closed"));
    }

    [Fact]
    public void Auth_failures_are_counted_by_reason()
    {
        var relay = new InProcessRelay();
        using var metrics = new MetricRecorder(relay.Metrics.Meter);
        relay.Metrics.AuthFailed("expired");
        relay.Metrics.AuthFailed("expired");
        relay.Metrics.AuthFailed("signature");
        Assert.Equal(2, metrics.Sum("moq.edge.auth.failures", "moq.reason", "expired"));
        Assert.Equal(3, metrics.Sum("moq.edge.auth.failures"));
    }
}
