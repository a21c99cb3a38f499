using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;
using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>
/// Hostile clients cost only themselves: garbage, lying lengths, stream floods and a publisher vanishing
/// mid-group each end their own session (one log line each) while a normal subscriber keeps every frame.
/// </summary>
public class HostileClientTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Garbage_lies_floods_and_vanishing_publishers_cost_only_themselves()
    {
        await using var edge = new EdgeProcess(https: true, tcp: true);
        await edge.StartAsync();
        var url = new Uri(edge.Http, "/anon");

        // A well-behaved pair streaming throughout.
        await using var publisher = await MoqClient.ConnectAsync(url);
        var track = publisher.Publish("calm/cam").CreateTrack("video", TrackInfo.Default with { MaxLatency = TimeSpan.FromMinutes(1) });
        await using var subscriber = await MoqClient.ConnectAsync(url);
        await WaitAnnouncedAsync(subscriber, "calm/cam");
        using var consumer = subscriber.Consume("calm/cam").Subscribe("video", new SubscriptionOptions(MaxLatency: TimeSpan.FromMinutes(1), StartGroup: 0));
        await Poll.UntilAsync(() => track.ConsumerCount > 0, "the relay to subscribe upstream");
        using var stop = new CancellationTokenSource();
        var writing = WriteGroupsAsync(track, stop.Token);
        var reading = ReadGroupsAsync(consumer, stop.Token);

        // 1. Garbage after a valid qmux-00 upgrade.
        var (garbage, _) = await MoqWebSocketClient.ConnectChannelAsync(url, new MoqWebSocketClientOptions { Subprotocols = ["qmux-00.moq-lite-04"] });
        await garbage.SendAsync(new byte[] { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11 });

        // 2. A stream whose message length claims a gigabyte.
        await using (var liar = await MoqWebSocketClient.ConnectAsync(url, new MoqWebSocketClientOptions { Subprotocols = ["qmux-00.moq-lite-04"] }))
        {
            var stream = await liar.OpenBidiAsync();
            var lie = new byte[16];
            lie[0] = 0x02; // Subscribe
            var n = 1 + VarInt.Write(lie.AsSpan(1), 1UL << 30);
            await stream.Send.WriteAsync(lie.AsMemory(0, n + 4));
            await Task.Delay(200);
        }

        // 3. A flood of streams, far beyond the advertised limit, over the raw record channel. Every 16th stream id:
        // the ids skipped are opened implicitly and never finish, so the flood passes the limit however fast the relay
        // serves (and gives back credit for) the streams that do carry a byte and FIN.
        var (flood, _) = await MoqWebSocketClient.ConnectChannelAsync(url, new MoqWebSocketClientOptions { Subprotocols = ["qmux-00.moq-lite-04"] });
        for (var i = 0; i < 5000; i++)
        {
            var frame = new byte[16];
            frame[0] = 0x0b; // STREAM with LEN and FIN
            var k = 1 + VarInt.Write(frame.AsSpan(1), (ulong)(i * 16 * 4));
            frame[k++] = 1;
            frame[k++] = 0x30;
            try
            {
                await flood.SendAsync(frame.AsMemory(0, k));
            }
            catch (Exception)
            {
                break; // the relay closed the offender
            }
        }

        // 4. A publisher that vanishes in the middle of a group.
        var vanishing = await MoqClient.ConnectAsync(url);
        var half = vanishing.Publish("gone/cam").CreateTrack("video").AppendGroup();
        half.WriteFrame(new byte[1000]);
        await Task.Delay(300);
        await vanishing.Session.Connection.DisposeAsync();

        await Task.Delay(1500);
        await stop.CancelAsync();
        await writing;
        var (written, received) = (await writing, await reading);
        Assert.True(received.Count > 0);
        Assert.Equal(Enumerable.Range(0, received.Count).Select(i => (ulong)i), received.Order());
        Assert.True(written - received.Count <= 2, $"wrote {written} groups, received {received.Count}");
        Assert.False(publisher.Closed.IsCompleted);
        Assert.False(subscriber.Closed.IsCompleted);
        await garbage.DisposeAsync();
        await flood.DisposeAsync();

        // One clear line per offender in the relay's log.
        var lines = edge.Process.StdoutLines;
        Assert.Single(lines, l => l.Contains("closed: code 7 truncated frame", StringComparison.Ordinal));           // garbage
        Assert.Single(lines, l => l.Contains("exceeds limit 65536 (code BoundsExceeded)", StringComparison.Ordinal)); // the liar
        Assert.Single(lines, l => l.Contains("closed: code 4 stream", StringComparison.Ordinal));                     // the flood
        Assert.Single(lines, l => l.Contains("session lost: 1 announced broadcast(s) linger", StringComparison.Ordinal)); // vanished
    }

    private static async Task WaitAnnouncedAsync(MoqClient client, string path)
    {
        using var feed = client.Announced("");
        if (feed.Initial.Any(a => a.Path.Value == path))
            return;
        while (await feed.NextAsync().AsTask().WaitAsync(Guard) is { } change)
            if (change.IsActive && change.Path.Value == path)
                return;
    }

    private static async Task<int> WriteGroupsAsync(TrackProducer track, CancellationToken stop)
    {
        var count = 0;
        while (!stop.IsCancellationRequested)
        {
            var group = track.AppendGroup((ulong)count++);
            for (var f = 0; f < 3; f++)
                group.WriteFrame(new byte[] { (byte)count, (byte)f });
            group.Finish();
            try
            {
                await Task.Delay(20, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return count;
    }

    private static async Task<List<ulong>> ReadGroupsAsync(TrackConsumer consumer, CancellationToken stop)
    {
        var received = new List<ulong>();
        using var linger = new CancellationTokenSource();
        stop.Register(() => linger.CancelAfter(TimeSpan.FromSeconds(2)));
        try
        {
            while (await consumer.NextGroupAsync(linger.Token) is { } group)
            {
                var frames = 0;
                while (await group.ReadFrameAsync(linger.Token) is not null)
                    frames++;
                Assert.Equal(3, frames);
                received.Add(group.Sequence);
            }
        }
        catch (OperationCanceledException)
        {
        }
        return received;
    }
}
