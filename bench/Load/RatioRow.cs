namespace MoqCluster.Bench.Load;

/// <summary>
/// One workload's comparison: ours ÷ nats for server CPU per delivered GB and for p99 latency (lower is
/// better for us), ours ÷ loopback TCP for throughput (the share of the box's ceiling we reach).
/// </summary>
internal sealed record RatioRow(string Workload, RunResult? Ours, RunResult? Nats, RunResult? Loopback)
{
    /// <summary>Our CPU s/GB divided by NATS's.</summary>
    public double? CpuPerGB => Divide(Ours?.CpuSecondsPerGB, Nats?.CpuSecondsPerGB);

    /// <summary>Our p99 divided by NATS's.</summary>
    public double? P99 => Divide(Ours?.LatencyP99Ms, Nats?.LatencyP99Ms);

    /// <summary>Our delivered Gbit/s divided by NATS's.</summary>
    public double? ThroughputVsNats => Divide(Ours?.Gbps, Nats?.Gbps);

    /// <summary>Our delivered Gbit/s divided by the loopback TCP ceiling (the best iperf3 row of the run).</summary>
    public double? ThroughputVsLoopback => Divide(Ours?.Gbps, Loopback?.Gbps);

    /// <summary>Pairs every non-loopback workload with its peers in <paramref name="results"/>.</summary>
    public static IReadOnlyList<RatioRow> Build(IReadOnlyList<RunResult> results)
    {
        var rows = new List<RatioRow>();
        foreach (var id in results.Where(r => r.System != "loopback").Select(r => r.Workload).Distinct())
        {
            var ours = results.LastOrDefault(r => r.Workload == id && r.System == "moq");
            var nats = results.LastOrDefault(r => r.Workload == id && r.System == "nats");
            var loopback = results.Where(r => r.System == "loopback" && r.Gbps is not null).MaxBy(r => r.Gbps);
            rows.Add(new RatioRow(id, ours, nats, loopback));
        }
        return rows;
    }

    private static double? Divide(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;
}
