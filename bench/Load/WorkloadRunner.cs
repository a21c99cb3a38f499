using System.Diagnostics;

namespace MoqCluster.Bench.Load;

/// <summary>
/// Runs one workload against one target: connect publishers, wait until the server knows them, connect
/// subscribers in parallel batches, publish through a warm-up, then measure a fixed window (frames,
/// bytes, latency, drops, server CPU and RSS from /proc, summed over <paramref name="serverPids"/>) and tear
/// everything down. With a <paramref name="cluster"/> probe (cross-edge runs) it also reads the subscribers' edge's
/// upstream subscriptions at the end of the window.
/// </summary>
internal sealed class WorkloadRunner(ILoadTarget target, Workload workload, IReadOnlyList<int> serverPids, RunErrors errors, int connectParallel,
    TimeSpan connectTimeout, int edges = 1, ClusterProbe? cluster = null, AllocationSampler? allocations = null)
{
    private static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan IdleSettle = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan DrainQuiet = TimeSpan.FromMilliseconds(250);

    private readonly MeasurementWindow _window = new();
    private readonly List<IFramePublisher> _publishers = [];
    private readonly List<IAsyncDisposable> _subscribers = [];
    private readonly List<SubscriptionStats> _stats = [];

    /// <summary>Runs the workload and returns its measurements.</summary>
    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        var baseline = SampleServer();
        var progress = Enumerable.Range(0, workload.Publishers).Select(_ => new BroadcastProgress()).ToArray();
        try
        {
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connecting.CancelAfter(connectTimeout);
                for (var b = 0; b < workload.Publishers; b++)
                    _publishers.Add(await target.ConnectPublisherAsync(b, connecting.Token).ConfigureAwait(false));
                await target.WaitPublishedAsync(workload.Publishers, connecting.Token).ConfigureAwait(false);
            }
            var connectWatch = Stopwatch.StartNew();
            var failures = await ConnectSubscribersAsync(progress, cancellationToken).ConfigureAwait(false);
            var connectSeconds = connectWatch.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"[{target.Name} {workload.Id}] {_subscribers.Count}/{workload.Subscribers} subscribers connected in {connectSeconds:F1} s ({failures} failed)");

            if (workload.Idle)
                return await MeasureIdleAsync(baseline, failures, connectSeconds, cancellationToken).ConfigureAwait(false);
            return await MeasureTrafficAsync(baseline, progress, failures, connectSeconds, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await TeardownAsync().ConfigureAwait(false);
        }
    }

    private async Task<int> ConnectSubscribersAsync(BroadcastProgress[] progress, CancellationToken cancellationToken)
    {
        var failures = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(connectTimeout);
        var options = new ParallelOptions { MaxDegreeOfParallelism = connectParallel };
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, workload.Subscribers), options, async (_, _) =>
            {
                if (deadline.IsCancellationRequested)
                {
                    Interlocked.Increment(ref failures);
                    return;
                }
                var subscriptions = progress.Select((p, b) => (b, new SubscriptionStats(_window, p, workload.GroupFrames))).ToList();
                try
                {
                    var session = await target.ConnectSubscriberAsync(subscriptions, deadline.Token).ConfigureAwait(false);
                    lock (_subscribers)
                    {
                        _subscribers.Add(session);
                        _stats.AddRange(subscriptions.Select(s => s.Item2));
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref failures);
                    foreach (var (_, stats) in subscriptions)
                        stats.Abandon();
                    errors.Add(deadline.IsCancellationRequested ? "connect deadline passed" : "subscriber connect", ex);
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        return failures;
    }

    private async Task<RunResult> MeasureIdleAsync(ProcessSample? baseline, int failures, double connectSeconds, CancellationToken cancellationToken)
    {
        await Task.Delay(IdleSettle, cancellationToken).ConfigureAwait(false);
        var after = SampleServer();
        return Describe(baseline, after) with
        {
            SubscribersConnected = _subscribers.Count,
            ConnectFailures = failures,
            ConnectSeconds = connectSeconds,
            Errors = errors.Count,
            ErrorSamples = errors.Samples,
            Note = "idle: connected and subscribed, no frames",
        };
    }

    private async Task<RunResult> MeasureTrafficAsync(ProcessSample? baseline, BroadcastProgress[] progress, int failures, double connectSeconds, CancellationToken cancellationToken)
    {
        using var stopPublishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = _publishers.Select((p, b) => new PublishLoop(p, progress[b], workload, _window)).ToList();
        var running = loops.Select(l => Task.Run(() => l.RunAsync(stopPublishing.Token), CancellationToken.None)).ToList();

        await Task.Delay(workload.Warmup, cancellationToken).ConfigureAwait(false);
        var serverBefore = SampleServer();
        var loadBefore = ProcessSample.Read(Environment.ProcessId);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var watch = Stopwatch.StartNew();
        allocations?.Start();
        _window.Open();
        await Task.Delay(workload.Duration, cancellationToken).ConfigureAwait(false);
        _window.Close();
        allocations?.Stop();
        var seconds = watch.Elapsed.TotalSeconds;
        var serverAfter = SampleServer();
        var loadAfter = ProcessSample.Read(Environment.ProcessId);
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        // Read while the publishers still run: the upstreams are live, outside the CPU window.
        var upstreams = await ReadUpstreamsAsync(cancellationToken).ConfigureAwait(false);

        await stopPublishing.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(running).ConfigureAwait(false);
        List<SubscriptionStats> stats;
        lock (_subscribers)
            stats = _stats.ToList();
        await DrainAsync(stats, cancellationToken).ConfigureAwait(false);

        var latency = new LatencyHistogram();
        var openers = new LatencyHistogram();
        long frames = 0, bytes = 0, groupsDropped = 0, groupsAborted = 0, framesLost = 0;
        foreach (var s in stats)
        {
            frames += s.Frames;
            bytes += s.Bytes;
            groupsDropped += s.GroupsDropped;
            groupsAborted += s.GroupsAborted;
            framesLost += s.FramesLost;
            if (s.Latency is { } h)
                latency.Add(h);
            if (s.OpenerLatency is { } o)
                openers.Add(o);
        }
        double? serverCpu = serverBefore is { } b0 && serverAfter is { } b1 ? b1.CpuSeconds - b0.CpuSeconds : null;
        return Describe(baseline, serverAfter) with
        {
            SubscribersConnected = _subscribers.Count,
            ConnectFailures = failures,
            ConnectSeconds = connectSeconds,
            Seconds = seconds,
            FramesPublished = loops.Sum(l => l.Published),
            FramesDelivered = frames,
            FramesPerSecond = frames / seconds,
            Gbps = bytes * 8 / seconds / 1e9,
            OfferedGbps = workload.OfferedGbps,
            ServerCpuSeconds = serverCpu,
            ServerCpuPercent = serverCpu / seconds * 100,
            CpuSecondsPerGB = bytes > 0 ? serverCpu / (bytes / 1e9) : null,
            LatencyP50Ms = latency.Quantile(0.50) / 1e6,
            LatencyP99Ms = latency.Quantile(0.99) / 1e6,
            LatencyP999Ms = latency.Quantile(0.999) / 1e6,
            OpenerLatencyP50Ms = openers.Quantile(0.50) / 1e6,
            OpenerLatencyP99Ms = openers.Quantile(0.99) / 1e6,
            GroupsDropped = groupsDropped,
            GroupsAborted = groupsAborted,
            FramesLost = framesLost,
            LoadCpuPercent = (loadAfter.CpuSeconds - loadBefore.CpuSeconds) / seconds * 100,
            LoadAllocBytesPerFrame = frames > 0 ? (double)allocated / frames : null,
            UpstreamSubscriptions = upstreams,
            UpstreamsPerTrack = upstreams / (double)workload.Publishers,
            Errors = errors.Count,
            ErrorSamples = errors.Samples,
        };
    }

    /// <summary>The subscribers' edge's upstream subscriptions (null without a probe, or when it does not answer: an error).</summary>
    private async Task<int?> ReadUpstreamsAsync(CancellationToken cancellationToken)
    {
        if (cluster is null)
            return null;
        try
        {
            var (upstreams, links) = await cluster.ReadAsync(cancellationToken).ConfigureAwait(false);
            Console.Error.WriteLine($"[{target.Name} {workload.Id}] {cluster.Url}: {upstreams} upstream subscription(s) over {links} connected link(s) for {workload.Publishers} track(s)");
            return upstreams;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            errors.Add($"reading {cluster.Url}", ex);
            return null;
        }
    }

    /// <summary>Waits (bounded) until frames stop arriving, so groups still in flight are not counted as dropped.</summary>
    private static async Task DrainAsync(List<SubscriptionStats> stats, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        long last = -1;
        while (deadline.Elapsed < DrainTimeout)
        {
            var now = stats.Sum(s => s.AllFrames);
            if (now == last)
                return;
            last = now;
            await Task.Delay(DrainQuiet, cancellationToken).ConfigureAwait(false);
        }
    }

    private RunResult Describe(ProcessSample? baseline, ProcessSample? after) => new()
    {
        Workload = workload.Id,
        System = target.Name,
        Edges = edges,
        Publishers = workload.Publishers,
        Subscribers = workload.Subscribers,
        FrameBytes = workload.FrameBytes,
        RateMbps = workload.RateMbps,
        RssBaselineMB = baseline?.RssBytes / 1e6,
        RssMB = after?.RssBytes / 1e6,
        RssPerSubscriberKB = baseline is { } b && after is { } a && _subscribers.Count > 0
            ? (a.RssBytes - b.RssBytes) / 1e3 / _subscribers.Count
            : null,
    };

    private ProcessSample? SampleServer() => ProcessSample.TryRead(serverPids, errors);

    private async Task TeardownAsync()
    {
        var closing = _subscribers.Select(s => s.DisposeAsync().AsTask())
            .Concat(_publishers.Select(p => p.DisposeAsync().AsTask()))
            .ToList();
        var all = Task.WhenAll(closing);
        if (await Task.WhenAny(all, Task.Delay(TeardownTimeout)).ConfigureAwait(false) != all)
            Console.Error.WriteLine($"[{target.Name} {workload.Id}] teardown did not finish in {TeardownTimeout.TotalSeconds} s; exiting anyway");
        else if (all.IsFaulted)
            Console.Error.WriteLine($"[{target.Name} {workload.Id}] teardown errors: {all.Exception?.GetBaseException().Message}");
    }
}
