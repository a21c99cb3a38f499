using System.Diagnostics;
using MoqCluster.Protocol.Client;

namespace MoqCluster.Cluster.Tests;

/// <summary>etcd losing its leader, or going away entirely, under a live cluster.</summary>
public sealed class EtcdFailureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task CrossEdgeDeliveryContinuesWhenTheEtcdLeaderIsKilled()
    {
        await using var cluster = await LocalCluster.StartAsync(edges: 3, leaseTtl: 3);
        await ClusterFixture.WarmUpAsync(cluster);
        await using var publisher = await MoqClient.ConnectAsync(new Uri(cluster.Edges[0].AnonUrl));
        var broadcast = publisher.Publish("leader/cam");
        await using var writer = new TrackWriter(broadcast.CreateTrack("video"), 0, TimeSpan.FromMilliseconds(50));
        await using var subscriber = await MoqClient.ConnectAsync(new Uri(cluster.Edges[2].AnonUrl));
        using var announced = new AnnouncementLog(subscriber.Announced("leader"));
        var (consumer, _) = await announced.WaitAsync("leader/cam", active: true, Guard, describe: () => cluster.DescribeLogs());
        using var track = new TrackLog(consumer!.Subscribe("video"), 3);
        await track.WaitForAsync(writer.NextSequence + 3, Guard, () => cluster.DescribeLogs());

        var leader = await cluster.Etcd.LeaderIndexAsync();
        Assert.True(leader >= 0, "no etcd leader found");
        var killedAt = Stopwatch.GetTimestamp();
        var atKill = writer.NextSequence;
        await cluster.Etcd.KillAsync(leader);
        output.WriteLine($"killed etcd leader n{leader + 1}");

        // A broadcast published on another edge after the kill still reaches edge 3 (the directory works on 2 members).
        await using var late = await MoqClient.ConnectAsync(new Uri(cluster.Edges[1].AnonUrl));
        var lateBroadcast = late.Publish("leader/late");
        await using var lateWriter = new TrackWriter(lateBroadcast.CreateTrack("video"), 0, TimeSpan.FromMilliseconds(50));
        var (lateConsumer, lateAt) = await announced.WaitAsync("leader/late", active: true, Guard, killedAt, () => cluster.DescribeLogs());
        using var lateTrack = new TrackLog(lateConsumer!.Subscribe("video"), 3);
        await lateTrack.WaitForAsync(lateWriter.NextSequence + 3, Guard, () => cluster.DescribeLogs());
        output.WriteLine($"new broadcast published after the leader kill announced on edge3 {Stopwatch.GetElapsedTime(killedAt, lateAt).TotalMilliseconds:F0} ms after the kill");

        // Keep the original flow running past an election plus a lease TTL.
        await Task.Delay(cluster.LeaseTtl + TimeSpan.FromSeconds(2));
        var end = writer.NextSequence;
        await track.WaitForAsync(end, Guard, () => cluster.DescribeLogs());
        var groups = track.Groups.Where(g => g.Sequence >= atKill && g.Sequence <= end).ToList();
        var gap = groups.Zip(groups.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a.ArrivedAt, b.ArrivedAt)).DefaultIfEmpty().Max();
        var missing = Enumerable.Range((int)atKill, (int)(end - atKill + 1)).Select(i => (ulong)i).Except(groups.Select(g => g.Sequence)).ToList();
        output.WriteLine($"groups {atKill}..{end} across the leader kill: {groups.Count} received, missing [{string.Join(',', missing)}], largest inter-arrival gap {gap.TotalMilliseconds:F0} ms (groups every 50 ms)");
        Assert.Empty(missing);
        Assert.Equal(0, announced.EndedCount("leader/cam"));
        Assert.False(track.Reading.IsCompleted);
        Assert.Empty(track.Errors);
    }

    [Fact]
    public async Task LocalDeliveryWorksWithoutEtcdAndTheDirectoryResynchronisesWhenItReturns()
    {
        await using var cluster = await LocalCluster.StartAsync(edges: 3, leaseTtl: 3);
        await ClusterFixture.WarmUpAsync(cluster);
        await cluster.Etcd.KillAllAsync();
        var outageAt = Stopwatch.GetTimestamp();
        output.WriteLine("killed every etcd member");

        // Every edge keeps serving its own publishers to its own subscribers.
        var publishers = new List<MoqClient>();
        var writers = new List<TrackWriter>();
        try
        {
            foreach (var edge in cluster.Edges)
            {
                var path = $"outage/{edge.NodeId}";
                var publisher = await MoqClient.ConnectAsync(new Uri(edge.AnonUrl));
                publishers.Add(publisher);
                writers.Add(new TrackWriter(publisher.Publish(path).CreateTrack("video"), 0, TimeSpan.FromMilliseconds(100)));
                await using var subscriber = await MoqClient.ConnectAsync(new Uri(edge.AnonUrl));
                using var announced = new AnnouncementLog(subscriber.Announced("outage"));
                var (consumer, _) = await announced.WaitAsync(path, active: true, Guard, describe: () => cluster.DescribeLogs());
                using var track = new TrackLog(consumer!.Subscribe("video"), 3);
                await track.WaitForAsync(writers[^1].NextSequence + 2, Guard, () => cluster.DescribeLogs());
                output.WriteLine($"{edge.NodeId}: local publish/subscribe works without etcd");
            }

            // Let the outage outlast the lease TTL, then bring etcd back.
            var outageFor = cluster.LeaseTtl + TimeSpan.FromSeconds(2) - Stopwatch.GetElapsedTime(outageAt);
            if (outageFor > TimeSpan.Zero)
                await Task.Delay(outageFor);
            await cluster.Etcd.RestartAllAsync();
            var backAt = Stopwatch.GetTimestamp();
            output.WriteLine($"etcd back after {Stopwatch.GetElapsedTime(outageAt, backAt).TotalSeconds:F1} s of outage");

            // Cross-edge again: what edge 1 published during the outage reaches edge 3, and vice versa.
            await using var onEdge3 = await MoqClient.ConnectAsync(new Uri(cluster.Edges[2].AnonUrl));
            using var seenOn3 = new AnnouncementLog(onEdge3.Announced("outage"));
            var (fromEdge1, at) = await seenOn3.WaitAsync("outage/edge1", active: true, Guard, describe: () => cluster.DescribeLogs());
            using var track1 = new TrackLog(fromEdge1!.Subscribe("video"), 3);
            var first = await track1.WaitForAsync(writers[0].NextSequence, Guard, () => cluster.DescribeLogs());
            output.WriteLine($"resync: edge1's outage broadcast announced on edge3 {Stopwatch.GetElapsedTime(backAt, at).TotalMilliseconds:F0} ms and its groups flowing {Stopwatch.GetElapsedTime(backAt, first.ArrivedAt).TotalMilliseconds:F0} ms after etcd was healthy again");

            await using var onEdge1 = await MoqClient.ConnectAsync(new Uri(cluster.Edges[0].AnonUrl));
            using var seenOn1 = new AnnouncementLog(onEdge1.Announced("outage"));
            var (fromEdge3, _) = await seenOn1.WaitAsync("outage/edge3", active: true, Guard, describe: () => cluster.DescribeLogs());
            using var track3 = new TrackLog(fromEdge3!.Subscribe("video"), 3);
            await track3.WaitForAsync(writers[2].NextSequence, Guard, () => cluster.DescribeLogs());
            await cluster.WaitMembersAsync(cluster.Edges, Guard);
            Assert.Empty(track1.Errors);
            Assert.Empty(track3.Errors);
        }
        finally
        {
            foreach (var writer in writers)
                await writer.DisposeAsync();
            foreach (var publisher in publishers)
                await publisher.DisposeAsync();
        }
    }
}
