using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Protocol.Tests.Model;

public class OriginModelTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Announced_feed_gives_snapshot_then_changes_relative_to_root()
    {
        var origin = new Origin();
        var existing = new BroadcastProducer();
        origin.Publish("anon/room/a", existing.Consume());
        using var feed = origin.Consumer("anon").Announced("room");
        Assert.Equal(["room/a"], feed.Initial.Select(a => a.Path.Value));

        var added = new BroadcastProducer();
        var publication = origin.Publish("anon/room/b", added.Consume());
        origin.Publish("anon/roomful/x", new BroadcastProducer().Consume()); // not under "room" per segment
        var change = (await feed.NextAsync().AsTask().WaitAsync(Guard))!;
        Assert.Equal("room/b", change.Path.Value);
        Assert.True(change.IsActive);

        publication.Dispose();
        var ended = (await feed.NextAsync().AsTask().WaitAsync(Guard))!;
        Assert.Equal("room/b", ended.Path.Value);
        Assert.False(ended.IsActive);
        Assert.False(feed.TryNext(out _));
    }

    [Fact]
    public async Task Finishing_a_broadcast_unpublishes_it()
    {
        var origin = new Origin();
        using var feed = origin.Consumer().Announced();
        var b = new BroadcastProducer();
        origin.Publish("x", b.Consume());
        Assert.True((await feed.NextAsync())!.IsActive);
        b.Finish();
        Assert.False((await feed.NextAsync().AsTask().WaitAsync(Guard))!.IsActive);
        Assert.Null(origin.Find("x"));
    }

    [Fact]
    public async Task Newest_publisher_wins_and_the_standby_takes_over_when_it_leaves()
    {
        var origin = new Origin();
        using var feed = origin.Consumer().Announced();
        var first = new BroadcastProducer();
        var second = new BroadcastProducer();
        origin.Publish("p", first.Consume());
        var newer = origin.Publish("p", second.Consume());
        Assert.Same(second, origin.Find("p")!.Producer);
        await feed.NextAsync();
        var replaced = (await feed.NextAsync())!;
        Assert.Same(second, replaced.Broadcast!.Producer);
        newer.Dispose();
        var back = (await feed.NextAsync().AsTask().WaitAsync(Guard))!;
        Assert.Same(first, back.Broadcast!.Producer);
    }

    [Fact]
    public void Scoped_views_only_see_and_publish_within_their_grants()
    {
        var origin = new Origin();
        var producer = origin.Producer("demo", ["my-stream"]);
        Assert.Null(producer.Publish("other", new BroadcastProducer().Consume()));
        Assert.NotNull(producer.Publish("my-stream/cam", new BroadcastProducer().Consume()));
        Assert.NotNull(origin.Find("demo/my-stream/cam"));

        origin.Publish("demo/secret", new BroadcastProducer().Consume());
        var consumer = origin.Consumer("demo", ["my-stream"]);
        Assert.Null(consumer.Consume("secret"));
        Assert.NotNull(consumer.Consume("my-stream/cam"));
        using var feed = consumer.Announced();
        Assert.Equal(["my-stream/cam"], feed.Initial.Select(a => a.Path.Value));
    }

    [Fact]
    public async Task Dynamic_broadcast_makes_one_request_per_track_for_many_subscribers()
    {
        var broadcast = new BroadcastProducer(dynamic: true);
        var consumer = broadcast.Consume();
        var subs = Enumerable.Range(0, 20).Select(_ => consumer.Subscribe("video")).ToList();
        var request = (await broadcast.RequestedTrackAsync().AsTask().WaitAsync(Guard))!;
        Assert.Equal("video", request.Name);
        Assert.Equal(20, request.ConsumerCount);
        using var cts = new CancellationTokenSource(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => broadcast.RequestedTrackAsync(cts.Token).AsTask());

        Assert.False(broadcast.TryRetire(request));
        subs.ForEach(s => s.Dispose());
        Assert.True(broadcast.TryRetire(request));
        using var again = consumer.Subscribe("video");
        Assert.NotSame(request, (await broadcast.RequestedTrackAsync().AsTask().WaitAsync(Guard))!);
    }

    [Fact]
    public void Static_broadcast_refuses_unknown_tracks_with_not_found()
    {
        var broadcast = new BroadcastProducer();
        broadcast.CreateTrack("audio");
        var ex = Assert.Throws<ProtocolException>(() => broadcast.Consume().Subscribe("video"));
        Assert.Equal(MoqErrorCode.NotFound, ex.Code);
    }
}
