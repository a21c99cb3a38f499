using Microsoft.Extensions.Logging.Abstractions;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Grains.Tests;

public class BroadcastGrainTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);
    private static readonly MoqPath Path = MoqPath.Parse("anon/cam");

    private static (BroadcastGrain Grain, Origin Serving) NewGrain(TimeSpan? orphanGrace = null)
    {
        var serving = new Origin();
        var options = new GrainOptions { OrphanGrace = orphanGrace ?? TimeSpan.FromSeconds(30), UpstreamLinger = TimeSpan.FromMilliseconds(100) };
        return (new BroadcastGrain(Path, serving, options, NullLogger.Instance), serving);
    }

    private static (GrainRoute Route, TrackProducer Track) LocalSource(string node, long epoch)
    {
        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("video");
        var consumer = broadcast.Consume();
        return (new GrainRoute(node, epoch, [7], IsLocal: true, _ => ValueTask.FromResult(consumer), broadcast), track);
    }

    private static async Task WaitConsumedAsync(TrackProducer track)
    {
        var deadline = DateTime.UtcNow + Guard;
        while (track.ConsumerCount == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the grain never subscribed to the source");
            await Task.Delay(5);
        }
    }

    private static void WriteGroup(TrackProducer track, ulong sequence, byte value)
    {
        var group = track.AppendGroup(sequence);
        group.WriteFrame(new[] { value });
        group.Finish();
    }

    private static async Task<byte> ReadGroupAsync(TrackConsumer consumer)
    {
        var group = await consumer.NextGroupAsync().AsTask().WaitAsync(Guard) ?? throw new InvalidOperationException("track ended");
        var frame = await group.ReadFrameAsync().AsTask().WaitAsync(Guard) ?? throw new InvalidOperationException("empty group");
        return frame.Payload.Span[0];
    }

    [Fact]
    public async Task Subscribers_keep_their_track_when_the_route_moves_to_another_source()
    {
        var (grain, serving) = NewGrain();
        var (first, firstTrack) = LocalSource("edge1", 1);
        grain.SetRoute(first);
        var broadcast = serving.Find(Path) ?? throw new InvalidOperationException("not announced");
        using var consumer = broadcast.Subscribe("video");
        await WaitConsumedAsync(firstTrack);
        WriteGroup(firstTrack, 0, 10);
        Assert.Equal(10, await ReadGroupAsync(consumer));

        // The publisher moved: a new source restarting its sequence numbers.
        var (second, secondTrack) = LocalSource("edge2", 2);
        grain.SetRoute(second);
        await WaitConsumedAsync(secondTrack);
        WriteGroup(secondTrack, 0, 20);
        Assert.Equal(20, await ReadGroupAsync(consumer));
        Assert.Same(broadcast.Producer, serving.Find(Path)!.Producer);
    }

    [Fact]
    public async Task Without_a_route_the_broadcast_is_unannounced_but_tracks_wait_for_a_new_one()
    {
        var (grain, serving) = NewGrain();
        var (first, firstTrack) = LocalSource("edge1", 1);
        grain.SetRoute(first);
        var broadcast = serving.Find(Path)!;
        using var consumer = broadcast.Subscribe("video");
        await WaitConsumedAsync(firstTrack);

        grain.SetRoute(null);
        Assert.Null(serving.Find(Path));
        var (second, secondTrack) = LocalSource("edge2", 2);
        grain.SetRoute(second);
        Assert.NotNull(serving.Find(Path));
        await WaitConsumedAsync(secondTrack);
        WriteGroup(secondTrack, 5, 55);
        Assert.Equal(55, await ReadGroupAsync(consumer));
    }

    [Fact]
    public async Task Orphaned_tracks_end_after_the_grace()
    {
        var (grain, serving) = NewGrain(TimeSpan.FromMilliseconds(200));
        var (route, track) = LocalSource("edge1", 1);
        grain.SetRoute(route);
        using var consumer = serving.Find(Path)!.Subscribe("video");
        await WaitConsumedAsync(track);
        grain.SetRoute(null);
        Assert.Null(await consumer.NextGroupAsync().AsTask().WaitAsync(Guard));
        Assert.True(grain.IsIdle);
    }

    [Fact]
    public async Task A_track_the_source_does_not_have_is_refused_with_not_found()
    {
        var (grain, serving) = NewGrain();
        var (route, _) = LocalSource("edge1", 1);
        grain.SetRoute(route);
        using var consumer = serving.Find(Path)!.Subscribe("audio");
        var ex = await Assert.ThrowsAsync<ProtocolException>(() => consumer.NextGroupAsync().AsTask().WaitAsync(Guard));
        Assert.Equal(MoqErrorCode.NotFound, ex.Code);
    }

    [Fact]
    public async Task Many_local_subscribers_share_one_subscription_to_the_source()
    {
        var (grain, serving) = NewGrain();
        var (route, track) = LocalSource("edge1", 1);
        grain.SetRoute(route);
        var broadcast = serving.Find(Path)!;
        var consumers = Enumerable.Range(0, 20).Select(_ => broadcast.Subscribe("video")).ToList();
        await WaitConsumedAsync(track);
        WriteGroup(track, 0, 1);
        foreach (var c in consumers)
            Assert.Equal(1, await ReadGroupAsync(c));
        Assert.Equal(1, track.ConsumerCount);
        consumers.ForEach(c => c.Dispose());
        var deadline = DateTime.UtcNow + Guard;
        while (track.ConsumerCount != 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal(0, track.ConsumerCount);
    }

    [Fact]
    public async Task A_deliberate_end_of_the_source_track_ends_the_local_track()
    {
        var (grain, serving) = NewGrain();
        var (route, track) = LocalSource("edge1", 1);
        grain.SetRoute(route);
        using var consumer = serving.Find(Path)!.Subscribe("video");
        await WaitConsumedAsync(track);
        WriteGroup(track, 0, 3);
        track.Finish();
        Assert.Equal(3, await ReadGroupAsync(consumer));
        Assert.Null(await consumer.NextGroupAsync().AsTask().WaitAsync(Guard));
    }
}
