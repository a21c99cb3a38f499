using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Model;

/// <summary>Pooled payloads go back to the pool only when no reader, cache or send queue can still see them.</summary>
public class PooledPayloadTests
{
    private static GroupProducer PooledGroup(TrackProducer track, ulong sequence, byte fill)
    {
        var group = track.AppendGroup(sequence);
        var array = PayloadPool.Shared.Rent(1000);
        array.AsSpan(0, 1000).Fill(fill);
        group.WritePooledFrame(array, 1000, 0);
        group.Finish();
        return group;
    }

    private static TrackProducer TinyCacheTrack() => new("video", TrackInfo.Default) { CacheBytes = 0 };

    [Fact]
    public async Task A_plain_reader_keeps_its_payload_after_the_group_leaves_the_cache()
    {
        var track = TinyCacheTrack();
        using var consumer = track.Subscribe();
        PooledGroup(track, 0, 7);
        var reader = (await consumer.NextGroupAsync())!;
        var frame = (await reader.ReadFrameAsync())!.Value;

        // Evict group 0, then churn the pool with many more pooled groups.
        for (ulong i = 1; i < 200; i++)
            PooledGroup(track, i, 9);

        Assert.All(frame.Payload.ToArray(), b => Assert.Equal(7, b));
    }

    [Fact]
    public async Task A_leased_reader_holds_the_payload_until_disposed_then_the_group_reads_as_gone()
    {
        var track = TinyCacheTrack();
        using var consumer = track.Subscribe();
        var group = PooledGroup(track, 0, 7);
        var reader = (await consumer.NextLeasedGroupAsync())!;
        var frame = (await reader.ReadFrameAsync())!.Value;
        for (ulong i = 1; i < 200; i++)
            PooledGroup(track, i, 9);

        // Evicted but leased: still intact.
        Assert.All(frame.Payload.ToArray(), b => Assert.Equal(7, b));
        reader.Dispose();

        Assert.Null(group.ConsumeLeased());
        var late = group.Consume();
        var error = await Assert.ThrowsAsync<ProtocolException>(async () => await late.ReadFrameAsync());
        Assert.Equal(MoqErrorCode.Old, error.Code);
    }

    [Fact]
    public async Task A_send_queue_holds_its_owner_until_it_lets_the_owner_go()
    {
        var track = TinyCacheTrack();
        using var consumer = track.Subscribe();
        var (group, queue) = await QueueSharedThenEvictAsync(track, consumer, [1, 2]);

        // The queue's hold alone keeps the group's payloads alive, also once their bytes have left the queue: a group
        // stream keeps one hold for all its frames until its send side is done.
        var out1 = new byte[1002];
        Assert.Equal(1002, queue.Read(out1));
        Assert.Equal([1, 2], out1[..2]);
        Assert.All(out1[2..], b => Assert.Equal(7, b));
        using (var again = group.ConsumeLeased())
            Assert.NotNull(again);

        queue.ReleaseOwner();
        Assert.Null(group.ConsumeLeased());
        queue.ReleaseOwner(); // idempotent: no second release
    }

    [Fact]
    public async Task One_hold_covers_every_frame_of_an_owner_and_a_new_owner_leaves_the_old_hold_on_its_last_chunk()
    {
        var track = TinyCacheTrack();
        using var consumer = track.Subscribe();
        var first = PooledGroup(track, 0, 7);
        var second = PooledGroup(track, 1, 8);
        var queue = new StreamBuffer();
        // Read through the track's consumer, so its cursor passes both groups and the cache may evict them.
        using (var a = await consumer.NextLeasedGroupAsync())
        using (var b = await consumer.NextLeasedGroupAsync())
        {
            var frameA = (await a!.ReadFrameAsync())!.Value;
            var frameB = (await b!.ReadFrameAsync())!.Value;
            queue.AppendShared([1], frameA.Payload, first);
            queue.AppendShared([2], frameA.Payload, first);
            queue.AppendShared([3], frameB.Payload, second);
        }
        // Both groups leave the cache: only the queue holds them, the first one too although the second took over.
        PooledGroup(track, 2, 9);
        using (var again = first.ConsumeLeased())
            Assert.NotNull(again);

        var output = new byte[2002];
        Assert.Equal(2002, queue.Read(output));
        // The first group's chunks have been read: its hold went with the last of them.
        Assert.Null(first.ConsumeLeased());
        using (var again = second.ConsumeLeased())
            Assert.NotNull(again);
        Assert.Equal(1001, queue.Read(new byte[1001]));
        queue.ReleaseOwner();
        Assert.Null(second.ConsumeLeased());
    }

    [Fact]
    public async Task Dropping_a_queue_releases_its_hold()
    {
        var track = TinyCacheTrack();
        using var consumer = track.Subscribe();
        var (group, queue) = await QueueSharedThenEvictAsync(track, consumer, []);
        Assert.Equal(1000, queue.Length);

        queue.Clear();

        Assert.Null(group.ConsumeLeased());
    }

    [Fact]
    public void Stream_buffer_keeps_order_across_copied_and_shared_chunks()
    {
        var queue = new StreamBuffer();
        queue.Append([1, 2, 3]);
        queue.AppendShared([4], new byte[] { 5, 6 });
        queue.Append([7]);
        var output = new byte[7];
        var read = 0;
        // Odd-sized reads cross chunk and prefix boundaries.
        while (read < output.Length)
            read += queue.Read(output.AsSpan(read, Math.Min(2, output.Length - read)));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7 }, output);
        Assert.Equal(0, queue.Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Stream_buffer_matches_a_plain_queue_through_any_mix_of_appends_and_reads(int seed)
    {
        // Drains to empty often, so the lone inline chunk, the move into a rented ring, its growth and its return
        // all happen many times over.
        var random = new Random(seed);
        var queue = new StreamBuffer();
        var expected = new Queue<byte>();
        byte next = 0;
        for (var step = 0; step < 5000; step++)
        {
            switch (random.Next(4))
            {
                case 0:
                    var copied = new byte[random.Next(1, 6000)];
                    foreach (ref var b in copied.AsSpan())
                        b = next++;
                    queue.Append(copied);
                    foreach (var b in copied)
                        expected.Enqueue(b);
                    break;
                case 1:
                    var prefix = new byte[random.Next(0, StreamBuffer.MaxInlinePrefix + 1)];
                    var shared = new byte[random.Next(0, 3000)];
                    foreach (ref var b in prefix.AsSpan())
                        b = next++;
                    foreach (ref var b in shared.AsSpan())
                        b = next++;
                    queue.AppendShared(prefix, shared);
                    foreach (var b in prefix.Concat(shared))
                        expected.Enqueue(b);
                    break;
                default:
                    var output = new byte[random.Next(1, 9000)];
                    var read = queue.Read(output);
                    Assert.Equal(Math.Min(output.Length, expected.Count), read);
                    for (var i = 0; i < read; i++)
                        Assert.Equal(expected.Dequeue(), output[i]);
                    break;
            }
            Assert.Equal(expected.Count, queue.Length);
        }
    }

    /// <summary>
    /// Queues group 0's first frame by reference behind <paramref name="header"/>, releases the reader's lease and
    /// pushes group 1 so the cache evicts group 0: only the queue's hold is left on its payload.
    /// </summary>
    private static async Task<(GroupProducer Group, StreamBuffer Queue)> QueueSharedThenEvictAsync(TrackProducer track, TrackConsumer consumer, byte[] header)
    {
        var group = PooledGroup(track, 0, 7);
        var reader = (await consumer.NextLeasedGroupAsync())!;
        var frame = (await reader.ReadFrameAsync())!.Value;
        var queue = new StreamBuffer();
        queue.AppendShared(header, frame.Payload, group);
        reader.Dispose();
        PooledGroup(track, 1, 9);
        return (group, queue);
    }
}
