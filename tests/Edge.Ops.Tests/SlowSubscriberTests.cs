using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Model;
using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>
/// A subscriber that never reads must cost only itself: the relay's per-subscriber queue is bounded by flow
/// control and the latency rules, so the others keep full delivery and the relay's memory stays bounded.
/// </summary>
public class SlowSubscriberTests
{
    private const int Groups = 120;
    private const int FramesPerGroup = 4;
    private const int FrameSize = 48 * 1024; // 23 MB in all: more than a QMux connection window (16 MiB)

    [Fact]
    public async Task One_stalled_subscriber_does_not_slow_twenty_others()
    {
        await using var edge = new EdgeProcess(https: true, tcp: true);
        await edge.StartAsync();
        var url = new Uri(edge.Http, "/anon");
        await using var publisher = await MoqClient.ConnectAsync(url);
        var broadcast = publisher.Publish("slow/cam");
        // A generous latency bound: on a loaded machine readers may lag seconds, and this test is about
        // isolation, not about the latency rules dropping stale groups.
        var track = broadcast.CreateTrack("video", TrackInfo.Default with { MaxLatency = TimeSpan.FromMinutes(2) });

        // The stalled one subscribes first and never reads a group.
        await using var stalled = await MoqClient.ConnectAsync(url);
        using (var feed = stalled.Announced("slow"))
        {
            while (!feed.Initial.Any(a => a.Path.Value == "slow/cam"))
            {
                var next = await feed.NextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                if (next is { IsActive: true } && next.Path.Value == "slow/cam")
                    break;
            }
        }
        using var stalledTrack = stalled.Consume("slow/cam").Subscribe("video", new SubscriptionOptions(StartGroup: 0));

        var readers = new List<MoqClient>();
        var consumers = new List<TrackConsumer>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var client = await MoqClient.ConnectAsync(url);
                readers.Add(client);
                consumers.Add(client.Consume("slow/cam").Subscribe("video", new SubscriptionOptions(MaxLatency: TimeSpan.FromMinutes(2), StartGroup: 0)));
            }
            await Poll.UntilAsync(() => track.ConsumerCount > 0, "the relay to subscribe upstream");
            await Task.Delay(500); // let every downstream subscription reach the relay's track

            var reading = consumers.Select(ReadAllAsync).ToList();
            for (var g = 0; g < Groups; g++)
            {
                var group = track.AppendGroup((ulong)g);
                for (var f = 0; f < FramesPerGroup; f++)
                    group.WriteFrame(Payload(g, f));
                group.Finish();
                await Task.Delay(5);
            }

            try
            {
                await Task.WhenAll(reading).WaitAsync(TimeSpan.FromSeconds(120));
            }
            catch (TimeoutException)
            {
                Assert.Fail("delivery stalled; groups per reader: " + string.Join(",", Progress.Select(p => p.Count)));
            }
            var results = reading.Select(r => r.Result).ToList();
            foreach (var received in results)
                Assert.Equal(Enumerable.Range(0, Groups).Select(i => (ulong)i), received.Order());

            // Bounded: the relay did not buffer the stalled subscriber's whole backlog per subscriber.
            var rss = ResidentMegabytes(edge.Process.Id);
            Assert.True(rss < 1024, $"relay RSS {rss} MB");
            Assert.False(publisher.Closed.IsCompleted);
        }
        finally
        {
            foreach (var c in consumers)
                c.Dispose();
            foreach (var r in readers)
                await r.DisposeAsync();
        }
    }

    private readonly List<List<ulong>> Progress = [];

    private async Task<List<ulong>> ReadAllAsync(TrackConsumer consumer)
    {
        var received = new List<ulong>();
        lock (Progress)
            Progress.Add(received);
        while (received.Count < Groups)
        {
            var group = await consumer.NextGroupAsync() ?? throw new InvalidOperationException($"track ended after {received.Count} groups");
            var frames = 0;
            while (await group.ReadFrameAsync() is { } frame)
            {
                Assert.Equal(Payload((int)group.Sequence, frames), frame.Payload.ToArray());
                frames++;
            }
            Assert.Equal(FramesPerGroup, frames);
            lock (Progress)
                received.Add(group.Sequence);
        }
        return received;
    }

    private static byte[] Payload(int group, int frame)
    {
        var bytes = new byte[FrameSize];
        bytes[0] = (byte)group;
        bytes[1] = (byte)frame;
        bytes[^1] = (byte)(group ^ frame);
        return bytes;
    }

    private static long ResidentMegabytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return 0;
    }
}
