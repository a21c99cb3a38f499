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
        text.AppendLine("Ours ÷ nats for server CPU per delivered GB and p99 latency (below 1 = we are better), for both relay transports: "
            + "*ws* = WebSocket + QMux (the browser path), *tcp* = QMux over raw TCP (like-for-like with nats, which is raw TCP). "
            + "Ours ÷ the loopback TCP ceiling (the best iperf3 row: 1 stream, 128 KB writes) for delivered throughput.\n");
        text.AppendLine("| workload | CPU s/GB ws÷nats | CPU s/GB tcp÷nats | p99 ws÷nats | p99 tcp÷nats | Gbit/s ws÷nats | Gbit/s tcp÷nats | Gbit/s ws÷loopback | Gbit/s tcp÷loopback |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var row in RatioRow.Build(measured))
        {
            text.AppendLine($"| {row.Workload} | {Format.Ratio(row.CpuPerGB(row.Ours))} | {Format.Ratio(row.CpuPerGB(row.OursTcp))} | "
                + $"{Format.Ratio(row.P99(row.Ours))} | {Format.Ratio(row.P99(row.OursTcp))} | "
                + $"{Format.Ratio(row.ThroughputVsNats(row.Ours))} | {Format.Ratio(row.ThroughputVsNats(row.OursTcp))} | "
                + $"{Format.Ratio(row.ThroughputVsLoopback(row.Ours))} | {Format.Ratio(row.ThroughputVsLoopback(row.OursTcp))} |");
        }
        var cross = CrossEdgeRow.Build(measured);
        if (cross.Count > 0)
        {
            text.AppendLine("\n### Across two edges\n");
            text.AppendLine("Publishers on edge A, subscribers on edge B (both edges on core 0), against the single-edge row of the same shape: "
                + "the latency the second edge adds, CPU s/GB of both edges together ÷ one edge's, and the upstream subscriptions per track "
                + "edge B held over its link to A (read from B's `GET /cluster` at the end of the window; 1 = one upstream shared by all of B's subscribers). "
                + "The two rows come from different runs: a negative difference means the run-to-run noise exceeds what the second edge adds.\n");
            text.AppendLine("| workload | single-edge row | p50 ms one → two edges | added p50 ms | p99 ms one → two edges | added p99 ms | CPU s/GB two÷one edge | upstreams/track |");
            text.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var row in cross)
            {
                text.AppendLine($"| {row.Cross.Workload} | {row.Single?.Workload ?? Format.Missing} | "
                    + $"{Format.Number(row.Single?.LatencyP50Ms)} → {Format.Number(row.Cross.LatencyP50Ms)} | {Signed(row.AddedP50Ms)} | "
                    + $"{Format.Number(row.Single?.LatencyP99Ms)} → {Format.Number(row.Cross.LatencyP99Ms)} | {Signed(row.AddedP99Ms)} | "
                    + $"{Format.Ratio(row.CpuPerGB)} | {Upstreams(row.Cross)} |");
            }
        }
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
            - *system*: *moq* = our relay over WebSocket + QMux, *moq-tcp* = our relay over QMux on raw TCP, *moq, 2 edges* = publishers on one edge and subscribers on another of a two-edge cluster (single-member etcd), *nats* = nats-server, *loopback* = iperf3.
            - *server CPU %*: the relay / nats-server / iperf3 server process (both edges together for two edges), utime+stime from /proc/PID/stat, % of one core (servers are pinned to core 0).
            - *CPU s/GB*: server CPU seconds per 10^9 delivered payload bytes.
            - *RSS MB*, *RSS/sub KB*: server RSS at the end (both edges summed for two edges); (that − RSS before any client) / connected subscribers.
            - *p50/p99/p99.9*: publish-call-to-subscriber-callback latency from a timestamp in each frame (same process, one clock).
            - *group-opening p99*: the p99 of the frames that open a group (every 30th): the relay opens a stream per group and subscriber for them (NATS: the same frame positions, for comparison).
            - *groups dropped*: gaps in each subscription's group sequence span (NATS: frame sequence ÷ group length); *frames lost* likewise for frames; *groups aborted (old)*: groups the relay reset as superseded beyond the latency bound (5 s by default) after they had started.
            - *upstreams/track*: cross-edge runs only: upstream subscriptions the subscribers' edge held over its edge-to-edge link (its `GET /cluster`) ÷ tracks; 1 = one upstream per track however many subscribers.
            - *gen CPU %*: the load generator's own CPU on core 1; near 100 means the generator, not the server, limited the row.
            """);
        return text.ToString();
    }

    /// <summary>The chart data: one line per traffic workload with throughput and p99 per system.</summary>
    public static string ChartData(IReadOnlyList<RunResult> results)
    {
        var text = new StringBuilder("# workload moq_gbps nats_gbps loopback_gbps moq_p99_ms nats_p99_ms moq_tcp_gbps moq_tcp_p99_ms\n");
        foreach (var row in RatioRow.Build(results.Where(r => !IsSkipped(r)).ToList()))
        {
            if ((row.Ours ?? row.OursTcp ?? row.Nats) is not { } any || any.Gbps is null)
                continue;
            text.AppendLine(string.Join(' ', row.Workload, Value(row.Ours?.Gbps), Value(row.Nats?.Gbps), Value(row.Loopback?.Gbps),
                Value(row.Ours?.LatencyP99Ms), Value(row.Nats?.LatencyP99Ms), Value(row.OursTcp?.Gbps), Value(row.OursTcp?.LatencyP99Ms)));
        }
        return text.ToString();
    }

    private static string Signed(double? ms) => ms is { } v && v > 0 ? "+" + Format.Number(v) : Format.Number(ms);

    private static string Upstreams(RunResult r) =>
        r.UpstreamsPerTrack is null ? Format.Missing : $"{Format.Number(r.UpstreamsPerTrack)} ({r.UpstreamSubscriptions} for {r.Publishers} track{(r.Publishers == 1 ? "" : "s")})";

    private static bool IsSkipped(RunResult r) => r.FramesPerSecond is null && r.RssMB is null && r.Note is not null;

    private static string Value(double? v) => v is { } x && x > 0 ? x.ToString("G4", CultureInfo.InvariantCulture) : "NaN";
}
