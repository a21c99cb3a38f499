using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace MoqCluster.Bench.Load;

/// <summary>
/// The ceiling: raw loopback TCP measured by <c>iperf3</c>. Runs the iperf3 client (inheriting this
/// process's CPU pinning) against a server started by the caller, with the workload's frame size as the
/// write length and its rate if fixed, and samples the server process like the other targets.
/// </summary>
internal sealed class LoopbackRunner(string host, int port, Workload workload, IReadOnlyList<int> serverPids, RunErrors errors)
{
    /// <summary>Runs iperf3 for the workload's duration and reports throughput and server CPU.</summary>
    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        var seconds = (int)Math.Max(1, Math.Round(workload.Duration.TotalSeconds));
        var arguments = new List<string> { "-c", host, "-p", port.ToString(CultureInfo.InvariantCulture), "-t", seconds.ToString(CultureInfo.InvariantCulture),
            "-l", workload.FrameBytes.ToString(CultureInfo.InvariantCulture), "--json" };
        if (workload.RateMbps > 0)
            arguments.AddRange(["-b", workload.RateMbps.ToString(CultureInfo.InvariantCulture) + "M"]);

        var start = new ProcessStartInfo("iperf3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        var before = Sample();
        using var iperf = Process.Start(start) ?? throw new InvalidOperationException("iperf3 did not start");
        var output = iperf.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = iperf.StandardError.ReadToEndAsync(cancellationToken);
        await iperf.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var after = Sample();

        var result = new RunResult
        {
            Workload = workload.Id,
            System = "loopback",
            Publishers = 1,
            Subscribers = 1,
            SubscribersConnected = 1,
            FrameBytes = workload.FrameBytes,
            RateMbps = workload.RateMbps,
            OfferedGbps = workload.RateMbps > 0 ? workload.RateMbps / 1e3 : null,
            RssBaselineMB = before?.RssBytes / 1e6,
            RssMB = after?.RssBytes / 1e6,
            Note = "iperf3, 1 TCP stream, no fan-out",
        };
        if (iperf.ExitCode != 0)
        {
            errors.Add($"iperf3 exited with {iperf.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()} {Truncate(await output.ConfigureAwait(false))}");
            return result with { Errors = errors.Count, ErrorSamples = errors.Samples };
        }
        using var json = JsonDocument.Parse(await output.ConfigureAwait(false));
        var received = json.RootElement.GetProperty("end").GetProperty("sum_received");
        var bytes = received.GetProperty("bytes").GetDouble();
        var elapsed = received.GetProperty("seconds").GetDouble();
        double? serverCpu = before is { } b0 && after is { } b1 ? b1.CpuSeconds - b0.CpuSeconds : null;
        // iperf3 reports its own (client) CPU share; that is the generator's load here.
        double? clientPercent = json.RootElement.GetProperty("end").TryGetProperty("cpu_utilization_percent", out var cpu)
            && cpu.TryGetProperty("host_total", out var hostTotal) ? hostTotal.GetDouble() : null;
        return result with
        {
            Seconds = elapsed,
            FramesDelivered = (long)(bytes / workload.FrameBytes),
            FramesPerSecond = bytes / workload.FrameBytes / elapsed,
            Gbps = bytes * 8 / elapsed / 1e9,
            ServerCpuSeconds = serverCpu,
            ServerCpuPercent = serverCpu / elapsed * 100,
            CpuSecondsPerGB = bytes > 0 ? serverCpu / (bytes / 1e9) : null,
            LoadCpuPercent = clientPercent,
            Errors = errors.Count,
            ErrorSamples = errors.Samples,
        };
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300];

    private ProcessSample? Sample() => ProcessSample.TryRead(serverPids, errors);
}
