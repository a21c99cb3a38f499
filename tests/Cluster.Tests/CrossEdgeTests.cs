using System.Text.Json;
using MoqCluster.Protocol.Client;

namespace MoqCluster.Cluster.Tests;

/// <summary>Publish on one edge, consume on the others, with the npm clients and with many C# subscribers.</summary>
public sealed class CrossEdgeTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(120);
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task NpmSubscribersOfEveryLibraryOnEdges2And3ReceiveEveryFrameFromAnNpmPublisherOnEdge1()
    {
        const int groups = 6;
        var broadcast = $"npm/{Guid.NewGuid():N}";
        var subscribers = new List<(string Name, NodeScript Script)>();
        try
        {
            foreach (var edge in Cluster.Edges.Skip(1))
            {
                foreach (var lib in new[] { "net", "lite", "kixelated" })
                {
                    var script = await NodeInterop.StartAsync("sub.mjs", [edge.AnonUrl, broadcast, "video", "--lib", lib, "--expect-groups", $"{groups}", "--timeout", "100", "--log", "groups"]);
                    subscribers.Add(($"{lib}@{edge.NodeId}", script));
                }
            }
            foreach (var (_, script) in subscribers)
                await script.WaitForEventAsync("connected", Guard);

            // The publisher starts writing 3 s after the first subscription reaches it, so every subscriber (each
            // subscribes as soon as the announcement reaches its edge) is in before group 0, and groups come 300 ms
            // apart (no burst for @kixelated/moq, which drops a group arriving after a newer one).
            var pub = await NodeInterop.RunAsync("pub.mjs",
                [Cluster.Edges[0].AnonUrl, broadcast, "video", "--lib", "lite", "--groups", $"{groups}", "--frames", "3", "--size", "1200",
                 "--group-interval", "300", "--start-delay", "3000", "--linger", "5", "--timeout", "100"], Guard);
            output.WriteLine($"publisher (lite on edge1): {pub.Describe()}");
            foreach (var (name, script) in subscribers)
            {
                var result = await script.WaitAsync(Guard);
                output.WriteLine($"{name}: ok={result.Ok} groups_complete={result.SummaryInt("groups_complete")}");
                Assert.True(result.Ok, $"{name} did not receive every frame: {result.Describe()}\n{Cluster.DescribeLogs()}");
                Assert.Equal(groups, result.SummaryInt("groups_complete"));
            }
        }
        finally
        {
            foreach (var (_, script) in subscribers)
                await script.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnnouncementsUnderAPrefixAreSeenOnEveryEdge()
    {
        var prefix = $"ann{Guid.NewGuid():N}"[..12];
        string[] paths = [$"{prefix}/one", $"{prefix}/two", $"{prefix}/three"];
        var watchers = new List<(string Name, NodeScript Script)>();
        try
        {
            foreach (var (edge, lib) in Cluster.Edges.Zip(new[] { "net", "lite", "kixelated" }))
            {
                var script = await NodeInterop.StartAsync("announced.mjs", [edge.AnonUrl, prefix, "--lib", lib, "--expect-active", "3", "--expect-ended", "3", "--timeout", "100"]);
                watchers.Add(($"{lib}@{edge.NodeId}", script));
            }
            foreach (var (_, script) in watchers)
                await script.WaitForEventAsync("connected", Guard);

            // Two broadcasts published on edge 1, one on edge 3.
            await using var onEdge1 = await MoqClient.ConnectAsync(new Uri(Cluster.Edges[0].AnonUrl));
            await using var onEdge3 = await MoqClient.ConnectAsync(new Uri(Cluster.Edges[2].AnonUrl));
            var published = new[] { onEdge1.Publish(paths[0]), onEdge1.Publish(paths[1]), onEdge3.Publish(paths[2]) };
            foreach (var (name, script) in watchers)
            {
                foreach (var path in paths)
                    await script.Process.WaitForLineAsync(l => IsAnnounce(l, path, active: true), Guard);
                output.WriteLine($"{name}: saw all 3 active");
            }
            foreach (var broadcast in published)
                broadcast.Finish();
            foreach (var (name, script) in watchers)
            {
                var result = await script.WaitAsync(Guard);
                output.WriteLine($"{name}: {result.Describe()}");
                Assert.True(result.Ok, $"{name}: {result.Describe()}\n{Cluster.DescribeLogs()}");
            }
        }
        finally
        {
            foreach (var (_, script) in watchers)
                await script.DisposeAsync();
        }
    }

    [Fact]
    public async Task TwentySubscribersPerEdgeShareOneUpstreamSubscriptionPerTrack()
    {
        const int perEdge = 20;
        var path = $"fan/{Guid.NewGuid():N}";
        // Start from links that carry nothing (earlier flows' tracks outlive their last subscriber by a linger).
        foreach (var edge in Cluster.Edges.Skip(1))
            await Eventually.TrueAsync(async () => await edge.UpstreamSubscriptionsToAsync("edge1") == 0, TimeSpan.FromSeconds(30), $"{edge.NodeId} still holds upstream subscriptions of earlier flows");

        await using var publisher = await MoqClient.ConnectAsync(new Uri(Cluster.Edges[0].AnonUrl));
        var broadcast = publisher.Publish(path);
        var video = broadcast.CreateTrack("video");
        var audio = broadcast.CreateTrack("audio");
        await using var videoWriter = new TrackWriter(video, 0, TimeSpan.FromMilliseconds(100));
        await using var audioWriter = new TrackWriter(audio, 0, TimeSpan.FromMilliseconds(100));

        var clients = new List<MoqClient>();
        var logs = new List<TrackLog>();
        try
        {
            foreach (var edge in Cluster.Edges.Skip(1))
            {
                for (var i = 0; i < perEdge; i++)
                {
                    var client = await MoqClient.ConnectAsync(new Uri(edge.AnonUrl));
                    clients.Add(client);
                    using var announced = new AnnouncementLog(client.Announced("fan"));
                    var (consumer, _) = await announced.WaitAsync(path, active: true, Guard, describe: () => Cluster.DescribeLogs());
                    logs.Add(new TrackLog(consumer!.Subscribe("video"), 3));
                    logs.Add(new TrackLog(consumer.Subscribe("audio"), 3));
                }
            }

            // Every subscriber gets groups written after all of them subscribed.
            var target = Math.Max(videoWriter.NextSequence, audioWriter.NextSequence) + 3;
            foreach (var log in logs)
                await log.WaitForAsync(target, Guard, () => Cluster.DescribeLogs());
            Assert.All(logs, l => Assert.Empty(l.Errors));

            foreach (var edge in Cluster.Edges.Skip(1))
            {
                var status = await edge.ClusterStatusAsync();
                output.WriteLine($"{edge.NodeId} /cluster: {JsonSerializer.Serialize(status)}");
                // Two tracks, 20 local subscribers each: exactly one edge-to-edge subscription per track once settled
                // (a source switch may overlap old and new for the upstream linger), and it stays so.
                var observed = new List<int>();
                await Eventually.TrueAsync(async () =>
                {
                    observed.Add(await edge.UpstreamSubscriptionsToAsync("edge1"));
                    return observed[^1] == 2;
                }, TimeSpan.FromSeconds(20), $"{edge.NodeId}: upstream subscriptions to edge1 never settled at 2 (observed {string.Join(',', observed)})\n{Cluster.DescribeLogs(60)}");
                for (var sample = 0; sample < 5; sample++)
                {
                    var count = await edge.UpstreamSubscriptionsToAsync("edge1");
                    observed.Add(count);
                    Assert.True(count == 2, $"{edge.NodeId}: {count} upstream subscriptions to edge1 for 2 tracks (observed {string.Join(',', observed)})\n{Cluster.DescribeLogs(60)}");
                    foreach (var other in Cluster.Edges.Skip(1).Where(o => o != edge))
                        Assert.Equal(0, await edge.UpstreamSubscriptionsToAsync(other.NodeId));
                    await Task.Delay(200);
                }
                output.WriteLine($"{edge.NodeId}: upstream subscriptions to edge1 observed {string.Join(',', observed)} with {perEdge} subscribers x 2 tracks");
            }
        }
        finally
        {
            foreach (var log in logs)
                log.Dispose();
            foreach (var client in clients)
                await client.DisposeAsync();
        }

        // With every local subscriber gone, the upstream subscriptions are released (after the linger).
        foreach (var edge in Cluster.Edges.Skip(1))
            await Eventually.TrueAsync(async () => await edge.UpstreamSubscriptionsToAsync("edge1") == 0, TimeSpan.FromSeconds(30), $"{edge.NodeId} kept its upstream subscriptions");
        broadcast.Finish();
    }

    private static bool IsAnnounce(string line, string path, bool active) =>
        JsonLines.TryParse(line, out var e) && JsonLines.EventName(e) == "announce"
        && e.GetProperty("path").GetString() is { } p && (p == path || p.EndsWith("/" + path, StringComparison.Ordinal))
        && e.GetProperty("active").GetBoolean() == active;
}
