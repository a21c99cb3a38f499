using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Protocol.Tests.Model;

public class TrackModelTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Frames_are_shared_not_copied_between_consumers()
    {
        var track = new TrackProducer("video");
        using var a = track.Subscribe();
        using var b = track.Subscribe();
        var group = track.AppendGroup();
        var payload = new byte[] { 1, 2, 3 };
        group.WriteFrame(payload);
        group.Finish();

        var ga = (await a.NextGroupAsync().AsTask().WaitAsync(Guard))!;
        var gb = (await b.NextGroupAsync().AsTask().WaitAsync(Guard))!;
        var fa = (await ga.ReadFrameAsync())!.Value;
        var fb = (await gb.ReadFrameAsync())!.Value;
        Assert.True(fa.Payload.Span.Overlaps(fb.Payload.Span));
        Assert.Null(await ga.ReadFrameAsync());
        Assert.Null(await gb.ReadFrameAsync());
    }

    [Fact]
    public async Task Late_joiner_starts_at_the_first_frame_of_the_latest_group()
    {
        var track = new TrackProducer("video");
        for (ulong i = 0; i < 3; i++)
        {
            var g = track.AppendGroup(i);
            g.WriteFrame(new byte[] { (byte)i, 0 });
            g.WriteFrame(new byte[] { (byte)i, 1 });
            if (i < 2)
                g.Finish();
        }
        using var late = track.Subscribe();
        var group = (await late.NextGroupAsync().AsTask().WaitAsync(Guard))!;
        Assert.Equal(2UL, group.Sequence);
        var first = (await group.ReadFrameAsync())!.Value;
        Assert.Equal(new byte[] { 2, 0 }, first.Payload.ToArray());
    }

    [Fact]
    public async Task Explicit_start_delivers_cached_groups_from_that_sequence()
    {
        var track = new TrackProducer("t");
        for (ulong i = 0; i < 5; i++)
            track.AppendGroup(i).Finish();
        using var consumer = track.Subscribe(new SubscriptionOptions(StartGroup: 3));
        Assert.Equal(3UL, (await consumer.NextGroupAsync())!.Sequence);
        Assert.Equal(4UL, (await consumer.NextGroupAsync())!.Sequence);
    }

    [Fact]
    public async Task End_group_holds_later_groups_until_an_update_raises_it()
    {
        var track = new TrackProducer("t");
        using var consumer = track.Subscribe(new SubscriptionOptions(StartGroup: 0, EndGroup: 1));
        for (ulong i = 0; i < 4; i++)
            track.AppendGroup(i).Finish();
        Assert.Equal(0UL, (await consumer.NextGroupAsync())!.Sequence);
        Assert.Equal(1UL, (await consumer.NextGroupAsync())!.Sequence);
        var pending = consumer.NextGroupAsync().AsTask();
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);
        consumer.Update(new SubscriptionOptions(StartGroup: 0, EndGroup: null));
        Assert.Equal(2UL, (await pending.WaitAsync(Guard))!.Sequence);
        Assert.Equal(3UL, (await consumer.NextGroupAsync().AsTask().WaitAsync(Guard))!.Sequence);
    }

    [Fact]
    public async Task Finished_track_ends_consumers_after_the_cache_is_drained()
    {
        var track = new TrackProducer("t");
        using var consumer = track.Subscribe(new SubscriptionOptions(StartGroup: 0));
        track.AppendGroup(0).Finish();
        track.Finish();
        Assert.Equal(0UL, (await consumer.NextGroupAsync())!.Sequence);
        Assert.Null(await consumer.NextGroupAsync());
    }

    [Fact]
    public async Task Aborted_track_reports_its_code()
    {
        var track = new TrackProducer("t");
        using var consumer = track.Subscribe();
        var group = track.AppendGroup();
        track.Abort(MoqErrorCode.NotFound);
        var g = (await consumer.NextGroupAsync())!;
        var ex = await Assert.ThrowsAsync<ProtocolException>(() => g.ReadFrameAsync().AsTask());
        Assert.Equal(MoqErrorCode.NotFound, ex.Code);
        Assert.Equal(MoqErrorCode.NotFound, group.AbortCode);
    }

    [Fact]
    public void Superseded_groups_are_evicted_after_the_publisher_latency_but_the_latest_stays()
    {
        var track = new TrackProducer("t", TrackInfo.Default with { MaxLatency = TimeSpan.Zero });
        track.AppendGroup(0).Finish();
        track.AppendGroup(1).Finish();
        // Longer than the coarse clock's step (Environment.TickCount64 moves in jiffies, up to 10 ms): 5 ms could read
        // the same tick twice and leave group 0 unexpired.
        Thread.Sleep(30);
        track.AppendGroup(2);
        Assert.Null(track.FindGroup(0));
        Assert.NotNull(track.FindGroup(2));
    }

    [Fact]
    public async Task Byte_budget_evicts_old_groups_only_once_every_consumer_passed_them()
    {
        var track = new TrackProducer("t", TrackInfo.Default with { MaxLatency = TimeSpan.FromHours(1) }) { CacheBytes = 100 };
        using var lagging = track.Subscribe(new SubscriptionOptions(StartGroup: 0));
        for (ulong i = 0; i < 5; i++)
        {
            var g = track.AppendGroup(i);
            g.WriteFrame(new byte[60]);
            g.Finish();
        }
        // The lagging consumer has read nothing: everything stays although the budget is exceeded.
        Assert.NotNull(track.FindGroup(0));
        for (ulong i = 0; i < 5; i++)
            Assert.Equal(i, (await lagging.NextGroupAsync())!.Sequence);
        track.AppendGroup(5).Finish();
        // Now every consumer passed them: only what fits in 100 bytes plus the latest remains.
        Assert.Null(track.FindGroup(0));
        Assert.Null(track.FindGroup(3));
        Assert.NotNull(track.FindGroup(4));
        Assert.NotNull(track.FindGroup(5));
        using var late = track.Subscribe();
        Assert.Equal(5UL, (await late.NextGroupAsync())!.Sequence);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Byte_budget_keeps_exactly_what_a_full_recount_keeps_through_any_mix_of_writes_closes_and_appends(int seed)
    {
        // The track keeps a running sum over a settled prefix of its cache; a plain list recounted at every append
        // must agree with it on which groups are still cached.
        const long Budget = 1000;
        var random = new Random(seed);
        var track = new TrackProducer("t", TrackInfo.Default with { MaxLatency = TimeSpan.FromHours(1) }) { CacheBytes = Budget };
        var model = new List<(ulong Sequence, GroupProducer Group)>();
        var open = new List<GroupProducer>();
        ulong next = 0;
        for (var step = 0; step < 3000; step++)
        {
            var op = random.Next(10);
            if (op < 5 && open.Count > 0)
            {
                open[random.Next(open.Count)].WriteFrame(new byte[random.Next(1, 200)]);
            }
            else if (op < 7 && open.Count > 0)
            {
                var group = open[random.Next(open.Count)];
                group.Finish();
                open.Remove(group);
            }
            else
            {
                var group = track.AppendGroup(next);
                model.Add((next++, group));
                open.Add(group);
                // The recount: oldest first, closed groups go while the rest exceeds the budget; never the latest.
                long bytes = model.Sum(m => m.Group.ByteCount);
                var removed = 0;
                while (bytes > Budget && model.Count - removed > 1 && model[removed].Group.IsClosed)
                    bytes -= model[removed++].Group.ByteCount;
                model.RemoveRange(0, removed);
                var kept = model.Select(m => m.Sequence).ToHashSet();
                for (ulong sequence = 0; sequence < next; sequence++)
                    Assert.Equal(kept.Contains(sequence), track.FindGroup(sequence) is not null);
            }
        }
        Assert.True(next > 500, "the mix appended enough groups to cycle the cache many times");
    }

    [Fact]
    public void Cache_is_bounded_by_count_whatever_the_latency()
    {
        var track = new TrackProducer("t", TrackInfo.Default with { MaxLatency = TimeSpan.FromHours(1) });
        for (ulong i = 0; i < TrackProducer.MaxCachedGroups + 10; i++)
            track.AppendGroup(i).Finish();
        Assert.Null(track.FindGroup(0));
        Assert.NotNull(track.FindGroup(TrackProducer.MaxCachedGroups + 9));
    }

    [Fact]
    public void Duplicate_group_sequence_is_rejected()
    {
        var track = new TrackProducer("t");
        track.AppendGroup(7);
        var ex = Assert.Throws<ProtocolException>(() => track.AppendGroup(7));
        Assert.Equal(MoqErrorCode.Duplicate, ex.Code);
    }

    [Fact]
    public async Task Consumer_count_and_unused_signal_follow_subscriptions()
    {
        var track = new TrackProducer("t");
        Assert.True(track.WhenUnused.IsCompleted);
        var a = track.Subscribe();
        var b = track.Subscribe();
        var unused = track.WhenUnused;
        Assert.False(unused.IsCompleted);
        a.Dispose();
        Assert.False(unused.IsCompleted);
        b.Dispose();
        await unused.WaitAsync(Guard);
        Assert.Equal(0, track.ConsumerCount);
    }

    [Fact]
    public void Aggregate_options_follow_the_reference_relay_rules()
    {
        var agg = SubscriptionOptions.Aggregate([
            new SubscriptionOptions(Priority: 1, Ordered: true, MaxLatency: TimeSpan.FromSeconds(1), StartGroup: 5, EndGroup: 10),
            new SubscriptionOptions(Priority: 7, Ordered: false, MaxLatency: TimeSpan.FromSeconds(3), StartGroup: 3, EndGroup: 20),
        ]);
        Assert.Equal(new SubscriptionOptions(7, false, TimeSpan.FromSeconds(3), 3, 20), agg);
        var unbounded = SubscriptionOptions.Aggregate([new SubscriptionOptions(EndGroup: 4), new SubscriptionOptions()]);
        Assert.Null(unbounded.EndGroup);
        Assert.Null(unbounded.StartGroup);
    }

    [Fact]
    public async Task Frames_are_read_in_order_while_groups_may_be_read_out_of_order()
    {
        var track = new TrackProducer("t");
        using var consumer = track.Subscribe(new SubscriptionOptions(StartGroup: 0));
        var g0 = track.AppendGroup(0);
        var g1 = track.AppendGroup(1);
        var c0 = (await consumer.NextGroupAsync())!;
        var c1 = (await consumer.NextGroupAsync())!;
        g1.WriteFrame(new byte[] { 10 });
        g0.WriteFrame(new byte[] { 0 });
        g0.WriteFrame(new byte[] { 1 });
        Assert.Equal(10, (await c1.ReadFrameAsync())!.Value.Payload.Span[0]);
        Assert.Equal(0, (await c0.ReadFrameAsync())!.Value.Payload.Span[0]);
        Assert.Equal(1, (await c0.ReadFrameAsync())!.Value.Payload.Span[0]);
    }
}

public class MaxLatencyTests
{
    [Fact]
    public async Task Subscriber_max_latency_zero_means_the_publisher_bound_not_latest_only()
    {
        // Spec pitfall 17: the JS clients send 0 by default. We read it as "no preference" (publisher's bound),
        // so a briefly lagging subscriber still gets a superseded group that is within the publisher's latency.
        var track = new TrackProducer("t", TrackInfo.Default with { MaxLatency = TimeSpan.FromSeconds(30) });
        using var zero = track.Subscribe(new SubscriptionOptions(MaxLatency: TimeSpan.Zero, StartGroup: 0));
        track.AppendGroup(0).Finish();
        track.AppendGroup(1).Finish();
        await Task.Delay(20);
        Assert.Equal(0UL, (await zero.NextGroupAsync())!.Sequence);

        // An explicit small bound is honoured (clamped to the publisher's).
        using var strict = track.Subscribe(new SubscriptionOptions(MaxLatency: TimeSpan.FromMilliseconds(1), StartGroup: 0));
        track.AppendGroup(2).Finish();
        track.AppendGroup(3);
        await Task.Delay(20);
        Assert.Equal(3UL, (await strict.NextGroupAsync())!.Sequence);
    }
}
