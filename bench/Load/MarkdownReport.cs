using System.Globalization;
using System.Text;

namespace MoqCluster.Bench.Load;

/// <summary>
/// Turns the JSON lines of a matrix run into <c>latest.md</c> (results, ratios, skipped workloads) and
/// the whitespace-separated data file the gnuplot chart reads.
/// </summary>
internal static class MarkdownReport
{
    /// <summary>Writes the report for <paramref name="results"/> with <paramref name="context"/> lines on top.</summary>
    public static string Render(IReadOnlyList<RunResult> results, IReadOnlyList<string> context)
    {
        var text = new StringBuilder("# MoqCluster load benchmark\n\n");
        foreach (var line in context)
            text.Append("- ").AppendLine(line);
        text.AppendLine();
        var measured = results.Where(r => !IsSkipped(r)).ToList();
        text.AppendLine("## Results\n");
        text.AppendLine(ResultTable.Render(measured));
        text.AppendLine("## Ratios\n");
        text.AppendLine("ours ÷ nats for server CPU per delivered GB and p99 latency (below 1 = we are better); ours ÷ the loopback TCP ceiling (the best iperf3 row: 1 stream, 128 KB writes) for delivered throughput.\n");
        text.AppendLine("| workload | CPU s/GB ours÷nats | p99 ours÷nats | Gbit/s ours÷nats | Gbit/s ours÷loopback |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var row in RatioRow.Build(measured))
            text.AppendLine($"| {row.Workload} | {Format.Ratio(row.CpuPerGB)} | {Format.Ratio(row.P99)} | {Format.Ratio(row.ThroughputVsNats)} | {Format.Ratio(row.ThroughputVsLoopback)} |");
        var skipped = results.Where(IsSkipped).ToList();
        if (skipped.Count > 0)
        {
            text.AppendLine("\n## Not run\n");
            foreach (var r in skipped)
                text.AppendLine($"- {r.Workload} ({r.System}): {r.Note}");
        }
        text.AppendLine("\n## Columns\n");
        text.AppendLine("""
            - *subs ok/asked*: subscriber sessions connected / requested; each session subscribes to every broadcast of the workload.
            - *rate*: per broadcast; *sat* = saturating, the publisher stays at most 1 MB ahead of its subscribers' average position.
            - *frames/s*, *Gbit/s*: delivered to all subscribers together (payload bytes) inside the measured window.
            - *server CPU %*: the relay / nats-server / iperf3 server process, utime+stime from /proc/PID/stat, % of one core (it is pinned to core 0).
            - *CPU s/GB*: server CPU seconds per 10^9 delivered payload bytes.
            - *RSS/sub KB*: (server RSS at the end − RSS before any client) / connected subscribers.
            - *p50/p99/p99.9*: publish-call-to-subscriber-callback latency from a timestamp in each frame (same process, one clock).
            - *groups dropped*: gaps in each subscription's group sequence span (NATS: frame sequence ÷ group length); *frames lost* likewise for frames; *groups aborted (old)*: groups the relay reset as superseded beyond the latency bound (5 s by default) after they had started.
            - *gen CPU %*: the load generator's own CPU on core 1; near 100 means the generator, not the server, limited the row.
            """);
        return text.ToString();
    }

    /// <summary>The chart data: one line per traffic workload with throughput and p99 per system.</summary>
    public static string ChartData(IReadOnlyList<RunResult> results)
    {
        var text = new StringBuilder("# workload moq_gbps nats_gbps loopback_gbps moq_p99_ms nats_p99_ms\n");
        foreach (var row in RatioRow.Build(results.Where(r => !IsSkipped(r)).ToList()))
        {
            if ((row.Ours ?? row.Nats) is not { } any || any.Gbps is null)
                continue;
            text.AppendLine(string.Join(' ', row.Workload, Value(row.Ours?.Gbps), Value(row.Nats?.Gbps), Value(row.Loopback?.Gbps),
                Value(row.Ours?.LatencyP99Ms), Value(row.Nats?.LatencyP99Ms)));
        }
        return text.ToString();
    }

    private static bool IsSkipped(RunResult r) => r.FramesPerSecond is null && r.RssMB is null && r.Note is not null;

    private static string Value(double? v) => v is { } x && x > 0 ? x.ToString("G4", CultureInfo.InvariantCulture) : "NaN";
}
