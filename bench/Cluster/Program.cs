using System.Buffers.Binary;
using System.Diagnostics;
using MoqCluster.Bench.Cluster;
using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Model;
using MoqCluster.TestSupport;

// Cluster benchmark: starts a 3-member etcd and three edges on loopback (like the cluster tests), then measures
//   1. announcement propagation: publish on edge 1 -> ANNOUNCE(active) seen by a client of edge 3;
//   2. frame latency publisher -> subscriber, cross-edge (edge 1 -> edge 3) and, for reference, on one edge.
// Usage: dotnet run -c Release --project bench/Cluster -- [--announces N] [--seconds S] [--interval-ms MS]
var announces = Option("--announces", 50);
var seconds = Option("--seconds", 10);
var intervalMs = Option("--interval-ms", 20);

Console.WriteLine($"starting etcd x3 + edges x3 ({EdgeProcess.EdgeDll})");
await using var cluster = await LocalCluster.StartAsync(edges: 3, leaseTtl: 3);
var (edge1, edge3) = (cluster.Edges[0], cluster.Edges[2]);
await using var publisher = await MoqClient.ConnectAsync(new Uri(edge1.AnonUrl));
await using var watcher = await MoqClient.ConnectAsync(new Uri(edge3.AnonUrl));

// Warm-up (JIT, links): a few cross-edge announcements and a second of frames, not measured.
await MeasurePropagationAsync(5);
await MeasureLatencyAsync(edge3, TimeSpan.FromSeconds(2));

var propagation = await MeasurePropagationAsync(announces);
var crossEdge = await MeasureLatencyAsync(edge3, TimeSpan.FromSeconds(seconds));
var sameEdge = await MeasureLatencyAsync(edge1, TimeSpan.FromSeconds(seconds));

Console.WriteLine();
Console.WriteLine($"cluster benchmark, {Environment.ProcessorCount} cores, lease TTL 3 s, frames every {intervalMs} ms");
Console.WriteLine("| measurement (ms) | samples | p50 | p90 | p99 | max |");
Console.WriteLine("|---|---|---|---|---|---|");
Console.WriteLine(propagation.Line("announce propagation edge1 -> edge3"));
Console.WriteLine(crossEdge.Line("frame latency edge1 -> edge3"));
Console.WriteLine(sameEdge.Line("frame latency edge1 -> edge1 (reference)"));
return 0;

async Task<Percentiles> MeasurePropagationAsync(int count)
{
    var samples = new List<double>();
    var run = Guid.NewGuid().ToString("N")[..8];
    using var feed = watcher.Announced($"prop{run}");
    for (var i = 0; i < count; i++)
    {
        var path = $"prop{run}/b{i}";
        var started = Stopwatch.GetTimestamp();
        var broadcast = publisher.Publish(path);
        while (await feed.NextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)) is { } a)
        {
            if (a.IsActive && a.Path.ToString() == path)
                break;
        }
        samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        broadcast.Finish();
        await Task.Delay(50);
    }
    return new Percentiles(samples);
}

async Task<Percentiles> MeasureLatencyAsync(EdgeProcess subscriberEdge, TimeSpan duration)
{
    var path = $"lat/{Guid.NewGuid():N}";
    var broadcast = publisher.Publish(path);
    var track = broadcast.CreateTrack("video");
    await using var subscriber = await MoqClient.ConnectAsync(new Uri(subscriberEdge.AnonUrl));
    using var feed = subscriber.Announced("lat");
    BroadcastConsumer? consumer = feed.Initial.FirstOrDefault(a => a.Path.ToString() == path)?.Broadcast;
    while (consumer is null && await feed.NextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)) is { } a)
    {
        if (a.IsActive && a.Path.ToString() == path)
            consumer = a.Broadcast;
    }
    using var reader = consumer!.Subscribe("video");
    var samples = new List<double>();
    using var stop = new CancellationTokenSource();
    var reading = Task.Run(async () =>
    {
        try
        {
            while (await reader.NextGroupAsync(stop.Token) is { } group)
            {
                while (await group.ReadFrameAsync(stop.Token) is { } frame)
                {
                    var sent = BinaryPrimitives.ReadInt64BigEndian(frame.Payload.Span);
                    lock (samples)
                        samples.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    });
    // Wait for the subscription to reach the publisher, then write one 1 KB frame per group at a steady pace.
    var waited = Stopwatch.StartNew();
    while (track.ConsumerCount == 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
        await Task.Delay(10);
    var clock = Stopwatch.StartNew();
    var payload = new byte[1024];
    while (clock.Elapsed < duration)
    {
        var frame = (byte[])payload.Clone();
        BinaryPrimitives.WriteInt64BigEndian(frame, Stopwatch.GetTimestamp());
        var group = track.AppendGroup();
        group.WriteFrame(frame);
        group.Finish();
        await Task.Delay(intervalMs);
    }
    await Task.Delay(500);
    await stop.CancelAsync();
    await reading;
    broadcast.Finish();
    lock (samples)
        return new Percentiles(samples);
}

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var value) ? value : fallback;
}
