using MoqCluster.Edge.Relay;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>Broadcasts of a publisher whose session is lost stay announced for the linger; deliberate ends are immediate.</summary>
public sealed class PublisherLingerTests
{
    private static readonly MoqPath Path = MoqPath.Parse("anon/room/linger");

    [Fact]
    public async Task Abruptly_lost_publisher_stays_announced_for_the_linger_then_ends()
    {
        await using var relay = new InProcessRelay(new EdgeOptions { PublisherLinger = TimeSpan.FromSeconds(3) });
        using var metrics = new MetricRecorder(relay.Metrics.Meter);
        var (origin, _, _) = RelayScenario.Broadcast("room/linger", "video");
        var (_, connection) = await relay.ConnectAsync(MoqVersion.Lite05, origin.Consumer());
        await Poll.UntilAsync(() => relay.Relay.Origin.Find(Path) is not null, "the broadcast to be announced");

        // Kill the transport: no "ended" is ever sent.
        await connection.DisposeAsync();
        await Poll.UntilAsync(() => relay.Relay.Sessions.Count == 0, "the relay to notice the lost session");

        // The session's announce loop decides between a loss and a deliberate end a moment after the session is gone
        // (it gives the connection a short grace to report closed): wait for that decision, then check it kept the
        // broadcast.
        await Poll.UntilAsync(() => metrics.Sum("moq.edge.publishers.lingering") == 1, "the lost publisher to be counted as lingering");
        Assert.NotNull(relay.Relay.Origin.Find(Path));
        await Poll.UntilAsync(() => relay.Relay.Origin.Find(Path) is null, "the linger to end the broadcast");
    }

    [Fact]
    public async Task A_reconnecting_publisher_takes_over_during_the_linger()
    {
        await using var relay = new InProcessRelay(new EdgeOptions { PublisherLinger = TimeSpan.FromMinutes(5) });
        var (firstOrigin, _, _) = RelayScenario.Broadcast("room/linger", "video");
        var (_, firstConnection) = await relay.ConnectAsync(MoqVersion.Lite05, firstOrigin.Consumer());
        await Poll.UntilAsync(() => relay.Relay.Origin.Find(Path) is not null, "the first broadcast to be announced");
        // The serving broadcast is the grain's and stays put; the local publication is what gets replaced.
        var lingering = relay.Relay.LocalOrigin.Find(Path);
        await firstConnection.DisposeAsync();
        await Poll.UntilAsync(() => relay.Relay.Sessions.Count == 0, "the relay to notice the lost session");

        var (secondOrigin, _, tracks) = RelayScenario.Broadcast("room/linger", "video");
        await relay.ConnectAsync(MoqVersion.Lite05, secondOrigin.Consumer());
        await Poll.UntilAsync(() => relay.Relay.LocalOrigin.Find(Path) is { } current && current != lingering, "the new publisher to take over");

        var (subscriber, _) = await relay.ConnectAsync(MoqVersion.Lite05);
        using var consumer = subscriber.Consume(MoqPath.Parse("room/linger")).Subscribe("video");
        await Poll.UntilAsync(() => tracks[0].ConsumerCount > 0, "the subscription to reach the new publisher");
        RelayScenario.WriteGroup(tracks[0], "resumed");
        Assert.Equal(["resumed"], await RelayScenario.ReadGroupAsync(consumer));
    }

    [Fact]
    public async Task A_deliberate_finish_unannounces_at_once()
    {
        // The linger is far longer than the hang guard: ending within the guard means no linger applied.
        await using var relay = new InProcessRelay(new EdgeOptions { PublisherLinger = TimeSpan.FromMinutes(5) });
        var (origin, broadcast, _) = RelayScenario.Broadcast("room/linger", "video");
        await relay.ConnectAsync(MoqVersion.Lite05, origin.Consumer());
        await Poll.UntilAsync(() => relay.Relay.Origin.Find(Path) is not null, "the broadcast to be announced");

        broadcast.Finish();
        await Poll.UntilAsync(() => relay.Relay.Origin.Find(Path) is null, "the broadcast to be unannounced", TimeSpan.FromSeconds(30));
    }
}
