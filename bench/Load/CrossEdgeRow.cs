namespace MoqCluster.Bench.Load;

/// <summary>
/// A cross-edge run (publishers on one edge, subscribers on another) next to the single-edge run of the same
/// system with the same publishers, subscribers, frame size and rate: the latency the second edge adds, what it
/// costs in CPU per delivered GB (both edges together), and the upstream subscriptions per track it held.
/// </summary>
internal sealed record CrossEdgeRow(RunResult Cross, RunResult? Single)
{
    /// <summary>p50 across two edges minus p50 on one edge, in ms.</summary>
    public double? AddedP50Ms => Subtract(Cross.LatencyP50Ms, Single?.LatencyP50Ms);

    /// <summary>p99 across two edges minus p99 on one edge, in ms.</summary>
    public double? AddedP99Ms => Subtract(Cross.LatencyP99Ms, Single?.LatencyP99Ms);

    /// <summary>CPU s/GB of both edges ÷ that of the single edge.</summary>
    public double? CpuPerGB => RatioRow.Divide(Cross.CpuSecondsPerGB, Single?.CpuSecondsPerGB);

    /// <summary>Every cross-edge run in <paramref name="results"/> with its single-edge reference (the last such run).</summary>
    public static IReadOnlyList<CrossEdgeRow> Build(IReadOnlyList<RunResult> results) =>
        results.Where(r => r.Edges > 1 && r.FramesPerSecond is not null)
            .Select(c => new CrossEdgeRow(c, results.LastOrDefault(s => s.Edges == 1 && s.System == c.System && s.FramesPerSecond is not null
                && s.Publishers == c.Publishers && s.Subscribers == c.Subscribers && s.FrameBytes == c.FrameBytes && s.RateMbps.Equals(c.RateMbps))))
            .ToList();

    private static double? Subtract(double? a, double? b) => a is { } x && b is { } y ? x - y : null;
}
