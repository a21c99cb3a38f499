using System.Text;
using MoqCluster.Interop.Tests.CSharp;
using MoqCluster.Protocol.Client;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>
/// The real edge relay as a child process, started from the build output
/// (<c>src/Edge/bin/&lt;Configuration&gt;/net10.0/MoqCluster.Edge.dll</c>, built by the solution build, never here)
/// on a free loopback port. Ready once <c>GET /health</c> answers 200; every log line is captured for
/// assertions and failure messages; disposing kills the process tree by PID.
/// </summary>
public sealed class EdgeProcessFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private ChildProcess? _process;

    /// <summary>The loopback port the edge listens on.</summary>
    public int Port { get; private set; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>The edge process (PID, live output).</summary>
    public ChildProcess Process => _process ?? throw new InvalidOperationException("edge not started");

    /// <summary>The URL of the public (anonymous) root, <c>http://127.0.0.1:PORT/anon</c>.</summary>
    public string AnonUrl => $"{Url}/anon";

    /// <summary>Every stdout line of the edge's console logger so far (single-line format).</summary>
    public IReadOnlyList<string> LogLines => Process.StdoutLines;

    /// <summary>The path of the edge entry assembly for the configuration these tests were built with.</summary>
    public static string EdgeDll => TestSupport.EdgeProcess.EdgeDll;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var dll = EdgeDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException(
                $"the edge is not built: {dll} is missing. Build the solution first (dotnet build Cluster.sln, or bash scripts/test.sh).");
        }

        // FreePort can race with another process taking the port: retry a few times on an early exit.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnceAsync(dll);
                return;
            }
            catch (EdgeExitedException) when (attempt < 3)
            {
            }
        }
    }

    private async Task StartOnceAsync(string dll)
    {
        Port = FreePort.Get();
        _process = ProcessRunner.Start(
            "dotnet",
            [dll, "--urls", Url],
            workingDirectory: Path.GetDirectoryName(dll),
            environment: new Dictionary<string, string?>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__Console__FormatterName"] = "simple",
                ["Logging__Console__FormatterOptions__SingleLine"] = "true",
                ["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled",
                ["Logging__LogLevel__Default"] = "Information",
                ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
                ["DOTNET_NOLOGO"] = "1",
            });
        try
        {
            await WaitHealthyAsync();
            await WarmUpAsync();
        }
        catch
        {
            await _process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the edge (by PID, with its process tree).</summary>
    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }

    /// <summary>Wait for a log line satisfying <paramref name="match"/> (earlier lines count).</summary>
    /// <param name="match">Line predicate.</param>
    /// <param name="timeout">Hang guard.</param>
    public Task<string> WaitForLogAsync(Func<string, bool> match, TimeSpan timeout) => Process.WaitForLineAsync(match, timeout);

    /// <summary>
    /// The edge's own report of a session at <c>/anon</c>: <c>session lite-05 over websocket/qmux-00 (qmux-00.moq-lite-05) at /anon</c>.
    /// </summary>
    /// <param name="version">Version name, e.g. <c>lite-05</c>.</param>
    /// <param name="subprotocol">Selected subprotocol, e.g. <c>qmux-00.moq-lite-05</c>.</param>
    public static string SessionLine(string version, string subprotocol)
    {
        var tag = subprotocol.Split('.')[0];
        return $"session {version} over websocket/{tag} ({subprotocol}) at /anon";
    }

    /// <summary>The last lines of the edge log, for assertion messages.</summary>
    /// <param name="lines">How many lines.</param>
    public string DescribeLog(int lines = 40)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"--- edge log (pid {_process?.Id}, tail) ---");
        foreach (var line in (_process?.StdoutLines ?? []).TakeLast(lines))
        {
            sb.AppendLine(line);
        }

        var stderr = _process?.Stderr ?? "";
        if (stderr.Length > 0)
        {
            sb.AppendLine("--- edge stderr ---").AppendLine(stderr[Math.Max(0, stderr.Length - 4000)..]);
        }

        return sb.ToString();
    }

    // One small C# flow through the fresh process, so the first test does not meet a cold (JIT-compiling) relay
    // that delivers a burst of groups at once.
    private async Task WarmUpAsync()
    {
        var timeout = TimeSpan.FromSeconds(30);
        await using var publisher = await MoqClient.ConnectAsync(new Uri(AnonUrl));
        await using var subscriber = await MoqClient.ConnectAsync(new Uri(AnonUrl));
        var broadcast = publisher.Publish("warmup/edge");
        var video = broadcast.CreateTrack("video");
        using var feed = subscriber.Announced("warmup");
        var consumer = await AnnouncementWaiter.ActiveAsync(feed, "warmup/edge", timeout, () => DescribeLog());
        using var track = consumer.Subscribe("video");
        var report = await CSharpFlow.RunAsync(video, track, 3, 2, 20_000, TimeSpan.FromMilliseconds(20), timeout, () => DescribeLog());
        broadcast.Finish();
        if (report.Errors.Count > 0 || report.GroupsComplete != 3)
        {
            throw new InvalidOperationException($"warm-up flow through the edge failed: {report}\n{DescribeLog()}");
        }
    }

    private async Task WaitHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (Process.HasExited)
            {
                throw new EdgeExitedException($"the edge exited during startup\n{DescribeLog()}");
            }

            try
            {
                using var response = await http.GetAsync($"{Url}/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow to answer while starting.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the edge did not answer /health within {StartTimeout}\n{DescribeLog()}");
            }

            await Task.Delay(100);
        }
    }

    private sealed class EdgeExitedException(string message) : Exception(message);
}
