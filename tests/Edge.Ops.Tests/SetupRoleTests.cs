using MoqCluster.Edge.Auth;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>The lite-05 SETUP Role hint: grants must cover the declared role; a one-directional client gets one half.</summary>
public class SetupRoleTests
{
    private static async Task<(MoqSession Client, Task Serving)> ConnectAsync(InProcessRelay relay, AccessGrant grant, SetupRole role, OriginConsumer? publish = null)
    {
        var (client, server) = InMemoryConnection.CreatePair(MoqVersion.Lite05.Alpn());
        var serving = relay.Relay.ServeAsync(server, grant, "memory");
        var session = await MoqSession.ConnectAsync(client, new SessionOptions { Versions = [MoqVersion.Lite05], Role = role, Publish = publish });
        return (session, serving);
    }

    [Fact]
    public async Task A_publisher_without_a_publish_grant_is_refused_as_unauthorized()
    {
        await using var relay = new InProcessRelay();
        var subscribeOnly = new AccessGrant(MoqPath.Parse("anon"), [], [MoqPath.Empty]);
        var (client, serving) = await ConnectAsync(relay, subscribeOnly, SetupRole.Publisher);
        await using var _ = client;
        var closed = await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((ulong)MoqErrorCode.Unauthorized, closed.Code);
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_subscriber_role_is_not_asked_for_announcements()
    {
        await using var relay = new InProcessRelay();
        var both = new AccessGrant(MoqPath.Parse("anon"), [MoqPath.Empty], [MoqPath.Empty]);
        var (subscriberOrigin, _, _) = RelayScenario.Broadcast("room/sub", "video");
        var (publisherOrigin, _, _) = RelayScenario.Broadcast("room/pub", "video");
        var (subscriber, _) = await ConnectAsync(relay, both, SetupRole.Subscriber, subscriberOrigin.Consumer());
        await using var _s = subscriber;
        var (publisher, _) = await ConnectAsync(relay, both, SetupRole.Publisher, publisherOrigin.Consumer());
        await using var _p = publisher;

        // The publisher-role session (connected second) is pulled for announcements; the subscriber-role one never is.
        await Poll.UntilAsync(() => relay.Relay.LocalOrigin.Find(MoqPath.Parse("anon/room/pub")) is not null, "the publisher's broadcast");
        await Task.Delay(300);
        Assert.Null(relay.Relay.LocalOrigin.Find(MoqPath.Parse("anon/room/sub")));
        Assert.False(subscriber.Closed.IsCompleted);
    }
}
