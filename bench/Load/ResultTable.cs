using System.Text;

namespace MoqCluster.Bench.Load;

/// <summary>The readable results table (Markdown syntax, also fine on a terminal).</summary>
internal static class ResultTable
{
    private static readonly string[] Header =
    [
        "workload", "system", "pubs", "subs ok/asked", "frame", "rate", "frames/s", "Gbit/s", "offered Gbit/s",
        "server CPU %", "CPU s/GB", "RSS MB", "RSS/sub KB", "p50 ms", "p99 ms", "p99.9 ms", "group-opening p99 ms",
        "groups dropped", "groups aborted (old)", "frames lost", "upstreams/track", "gen CPU %", "errors",
    ];

    /// <summary>Renders <paramref name="results"/> as a Markdown table.</summary>
    public static string Render(IEnumerable<RunResult> results)
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", Header).AppendLine(" |");
        text.Append('|').AppendJoin("|", Header.Select(_ => "---")).AppendLine("|");
        foreach (var r in results)
        {
            string[] cells =
            [
                r.Workload, r.Edges > 1 ? $"{r.System}, {r.Edges} edges" : r.System, r.Publishers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{r.SubscribersConnected}/{r.Subscribers}", Format.Size(r.FrameBytes), r.Note?.StartsWith("idle", StringComparison.Ordinal) == true ? "idle" : Format.Rate(r.RateMbps),
                Format.Number(r.FramesPerSecond), Format.Number(r.Gbps), Format.Number(r.OfferedGbps),
                Format.Number(r.ServerCpuPercent), Format.Number(r.CpuSecondsPerGB), Format.Number(r.RssMB),
                Format.Number(r.RssPerSubscriberKB), Format.Number(r.LatencyP50Ms), Format.Number(r.LatencyP99Ms),
                Format.Number(r.LatencyP999Ms), Format.Number(r.OpenerLatencyP99Ms), r.GroupsDropped.ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.GroupsAborted.ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.FramesLost.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Number(r.UpstreamsPerTrack), Format.Number(r.LoadCpuPercent),
                r.Errors == 0 ? "0" : $"{r.Errors}: {string.Join("; ", r.ErrorSamples).Replace("|", "/", StringComparison.Ordinal)}",
            ];
            text.Append("| ").AppendJoin(" | ", cells).AppendLine(" |");
        }
        return text.ToString();
    }
}
