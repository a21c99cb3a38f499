namespace MoqCluster.Bench.Load;

/// <summary>The measurements of one workload against one system; serialised as one JSON line.</summary>
internal sealed record RunResult
{
    /// <summary>Workload id (e.g. <c>fanout-100-16k-sat</c>).</summary>
    public required string Workload { get; init; }
    /// <summary>System under test: moq (WebSocket + QMux), moq-tcp (QMux over TCP), nats or loopback.</summary>
    public required string System { get; init; }
    /// <summary>Server processes the run used: 1, or 2 for the cross-edge workload (publishers on one edge, subscribers on another).</summary>
    public int Edges { get; init; } = 1;
    /// <summary>Publishers (broadcasts).</summary>
    public int Publishers { get; init; }
    /// <summary>Subscriber sessions asked for.</summary>
    public int Subscribers { get; init; }
    /// <summary>Subscriber sessions that connected.</summary>
    public int SubscribersConnected { get; init; }
    /// <summary>Subscriber connects that failed or did not finish in time.</summary>
    public int ConnectFailures { get; init; }
    /// <summary>Seconds spent connecting the subscribers.</summary>
    public double ConnectSeconds { get; init; }
    /// <summary>Frame size in bytes.</summary>
    public int FrameBytes { get; init; }
    /// <summary>Rate per broadcast in Mbit/s; 0 = saturating.</summary>
    public double RateMbps { get; init; }
    /// <summary>Measured window in seconds.</summary>
    public double Seconds { get; init; }
    /// <summary>Frames published inside the window.</summary>
    public long FramesPublished { get; init; }
    /// <summary>Frames delivered (summed over subscriptions) inside the window.</summary>
    public long FramesDelivered { get; init; }
    /// <summary>Delivered frames per second.</summary>
    public double? FramesPerSecond { get; init; }
    /// <summary>Delivered payload Gbit/s.</summary>
    public double? Gbps { get; init; }
    /// <summary>What a fixed rate asks for, in delivered Gbit/s.</summary>
    public double? OfferedGbps { get; init; }
    /// <summary>Server CPU seconds inside the window (utime + stime).</summary>
    public double? ServerCpuSeconds { get; init; }
    /// <summary>Server CPU use as a percentage of one core.</summary>
    public double? ServerCpuPercent { get; init; }
    /// <summary>Server CPU seconds per delivered GB (10^9 bytes of payload).</summary>
    public double? CpuSecondsPerGB { get; init; }
    /// <summary>Server RSS before any client connected, in MB.</summary>
    public double? RssBaselineMB { get; init; }
    /// <summary>Server RSS at the end of the window (idle: after connecting and settling), in MB.</summary>
    public double? RssMB { get; init; }
    /// <summary>(RSS − baseline) / connected subscribers, in KB.</summary>
    public double? RssPerSubscriberKB { get; init; }
    /// <summary>End-to-end latency percentiles in milliseconds.</summary>
    public double? LatencyP50Ms { get; init; }
    /// <inheritdoc cref="LatencyP50Ms"/>
    public double? LatencyP99Ms { get; init; }
    /// <inheritdoc cref="LatencyP50Ms"/>
    public double? LatencyP999Ms { get; init; }
    /// <summary>Latency percentiles in milliseconds of the frames that open a group (the relay opens a stream per group and subscriber).</summary>
    public double? OpenerLatencyP50Ms { get; init; }
    /// <inheritdoc cref="OpenerLatencyP50Ms"/>
    public double? OpenerLatencyP99Ms { get; init; }
    /// <summary>Groups missing inside each subscription's seen span, summed.</summary>
    public long GroupsDropped { get; init; }
    /// <summary>Groups aborted by the relay as too old (moq only), summed over subscriptions.</summary>
    public long GroupsAborted { get; init; }
    /// <summary>Frames missing inside each subscription's seen span, summed.</summary>
    public long FramesLost { get; init; }
    /// <summary>
    /// Upstream subscriptions the subscribers' edge held over its edge-to-edge links at the end of the window
    /// (its <c>GET /cluster</c>); cross-edge runs only.
    /// </summary>
    public int? UpstreamSubscriptions { get; init; }
    /// <summary><see cref="UpstreamSubscriptions"/> ÷ tracks (one per broadcast): 1 when the edge shares one upstream among its subscribers.</summary>
    public double? UpstreamsPerTrack { get; init; }
    /// <summary>The generator's managed allocations in the window (every thread) per delivered frame, publishing included.</summary>
    public double? LoadAllocBytesPerFrame { get; init; }
    /// <summary>The generator's own CPU use as a percentage of one core (near 100 = the generator was the bottleneck).</summary>
    public double? LoadCpuPercent { get; init; }
    /// <summary>Failures after connecting (sessions closed, protocol errors).</summary>
    public int Errors { get; init; }
    /// <summary>The first few failure messages.</summary>
    public IReadOnlyList<string> ErrorSamples { get; init; } = [];
    /// <summary>Free-form remark (e.g. why a row is empty).</summary>
    public string? Note { get; init; }
}
