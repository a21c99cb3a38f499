namespace MoqCluster.Bench.Load;

/// <summary>
/// One workload's comparison on one edge: each of our transports (WebSocket + QMux, the browser path; QMux over
/// TCP, like-for-like with nats's raw TCP) ÷ nats for server CPU per delivered GB and for p99 latency (lower is
/// better for us), and ÷ loopback TCP for throughput (the share of the box's ceiling we reach).
/// </summary>
internal sealed record RatioRow(string Workload, RunResult? Ours, RunResult? OursTcp, RunResult? Nats, RunResult? Loopback)
{
    /// <summary>Server CPU s/GB of <paramref name="ours"/> divided by NATS's.</summary>
    public double? CpuPerGB(RunResult? ours) => Divide(ours?.CpuSecondsPerGB, Nats?.CpuSecondsPerGB);

    /// <summary>p99 of <paramref name="ours"/> divided by NATS's.</summary>
    public double? P99(RunResult? ours) => Divide(ours?.LatencyP99Ms, Nats?.LatencyP99Ms);

    /// <summary>Delivered Gbit/s of <paramref name="ours"/> divided by NATS's.</summary>
    public double? ThroughputVsNats(RunResult? ours) => Divide(ours?.Gbps, Nats?.Gbps);

    /// <summary>Delivered Gbit/s of <paramref name="ours"/> divided by the loopback TCP ceiling (the best iperf3 row of the run).</summary>
    public double? ThroughputVsLoopback(RunResult? ours) => Divide(ours?.Gbps, Loopback?.Gbps);

    /// <summary>Pairs every single-edge, non-loopback workload with its peers in <paramref name="results"/>.</summary>
    public static IReadOnlyList<RatioRow> Build(IReadOnlyList<RunResult> results)
    {
        var rows = new List<RatioRow>();
        var loopback = results.Where(r => r.System == "loopback" && r.Gbps is not null).MaxBy(r => r.Gbps);
        foreach (var id in results.Where(r => r.System != "loopback" && r.Edges == 1).Select(r => r.Workload).Distinct())
        {
            RunResult? Of(string system) => results.LastOrDefault(r => r.Workload == id && r.System == system && r.Edges == 1);
            rows.Add(new RatioRow(id, Of("moq"), Of("moq-tcp"), Of("nats"), loopback));
        }
        return rows;
    }

    /// <summary><paramref name="a"/> ÷ <paramref name="b"/>, null when either is missing or b is not positive.</summary>
    public static double? Divide(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;
}
