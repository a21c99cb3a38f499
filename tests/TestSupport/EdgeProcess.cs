using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MoqCluster.TestSupport;

/// <summary>
/// One clustered edge relay as a child process on a fixed loopback port, started from the build output
/// (<c>src/Edge/bin/&lt;Configuration&gt;/net10.0/MoqCluster.Edge.dll</c>, or <c>MOQ_EDGE_DLL</c>). Ready once
/// <c>GET /health</c> answers; <see cref="Kill"/> is a SIGKILL (a crash, no lease revoke); dispose kills by PID.
/// </summary>
public sealed class EdgeProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly IReadOnlyList<string> _extra;
    private readonly Action<string>? _log;
    private readonly List<string> _previousLog = [];
    private ChildProcess? _process;

    private EdgeProcess(string nodeId, int port, IReadOnlyList<string> extra, Action<string>? log)
    {
        NodeId = nodeId;
        Port = port;
        _extra = extra;
        _log = log;
    }

    /// <summary>The cluster node id (<c>--Cluster:NodeId</c>).</summary>
    public string NodeId { get; }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>The public root, <c>http://127.0.0.1:PORT/anon</c>.</summary>
    public string AnonUrl => $"{Url}/anon";

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The edge entry assembly for the configuration the caller was built with.</summary>
    public static string EdgeDll
    {
        get
        {
            if (Environment.GetEnvironmentVariable("MOQ_EDGE_DLL") is { Length: > 0 } overridden)
            {
                return overridden;
            }

            // The caller's assembly lives in <project>/bin/<Configuration>/net10.0/.
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Debug";
            return Path.Combine(RepoPaths.Root, "src", "Edge", "bin", configuration, "net10.0", "MoqCluster.Edge.dll");
        }
    }

    /// <summary>Starts an edge and waits for <c>/health</c>.</summary>
    /// <param name="nodeId">Cluster node id.</param>
    /// <param name="port">Loopback port (see <see cref="FreePort"/>).</param>
    /// <param name="arguments">Further command-line settings, e.g. <c>--Cluster:Etcd=…</c>.</param>
    /// <param name="log">Receives every output line.</param>
    public static async Task<EdgeProcess> StartAsync(string nodeId, int port, IReadOnlyList<string> arguments, Action<string>? log = null)
    {
        var edge = new EdgeProcess(nodeId, port, arguments, log);
        await edge.RestartAsync();
        return edge;
    }

    /// <summary>Starts the process again (after <see cref="Kill"/>) with the same port and settings.</summary>
    public async Task RestartAsync()
    {
        var dll = EdgeDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"the edge is not built: {dll} is missing. Build the solution first (dotnet build Cluster.sln, or bash scripts/test.sh).");
        }

        if (IsRunning)
        {
            throw new InvalidOperationException($"{NodeId} is running");
        }

        if (_process is not null)
        {
            _previousLog.AddRange(_process.StdoutLines);
            await _process.DisposeAsync();
        }

        _process = ProcessRunner.Start(
            "dotnet",
            [dll, "--urls", Url, $"--Cluster:NodeId={NodeId}", .. _extra],
            workingDirectory: Path.GetDirectoryName(dll),
            environment: new Dictionary<string, string?>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__Console__FormatterName"] = "simple",
                ["Logging__Console__FormatterOptions__SingleLine"] = "true",
                ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
                ["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled",
                ["Logging__LogLevel__Default"] = "Information",
                ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
                ["DOTNET_NOLOGO"] = "1",
            },
            log: _log is null ? null : line => _log($"[{NodeId}] {line}"));
        await WaitHealthyAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGKILL: the edge dies without revoking its lease or closing its sessions.</summary>
    public void Kill() => _process?.Kill();

    /// <summary>The edge's <c>GET /cluster</c> report (members, links and their upstream subscriptions).</summary>
    public async Task<JsonElement> ClusterStatusAsync()
    {
        var body = await Http.GetStringAsync($"{Url}/cluster");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The live members this edge sees (empty when it does not answer).</summary>
    public async Task<IReadOnlyList<string>> MembersAsync()
    {
        try
        {
            var status = await ClusterStatusAsync();
            return status.GetProperty("members").EnumerateArray().Select(m => m.GetString()!).ToList();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return [];
        }
    }

    /// <summary>The upstream subscriptions this edge holds over its link to <paramref name="nodeId"/> (0 without a link).</summary>
    public async Task<int> UpstreamSubscriptionsToAsync(string nodeId)
    {
        var status = await ClusterStatusAsync();
        foreach (var link in status.GetProperty("links").EnumerateArray())
        {
            if (link.GetProperty("nodeId").GetString() == nodeId)
            {
                return link.GetProperty("upstreamSubscriptions").GetInt32();
            }
        }

        return 0;
    }

    /// <summary>The last lines of the edge's log (all runs), for failure messages.</summary>
    public string DescribeLog(int lines = 40)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"--- {NodeId} log (pid {_process?.Id}, tail) ---");
        foreach (var line in _previousLog.Concat(_process?.StdoutLines ?? []).TakeLast(lines))
        {
            sb.AppendLine(line);
        }

        var stderr = _process?.Stderr ?? "";
        if (stderr.Length > 0)
        {
            sb.AppendLine("--- stderr ---").AppendLine(stderr[Math.Max(0, stderr.Length - 3000)..]);
        }

        return sb.ToString();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"edge {NodeId} exited during startup\n{DescribeLog()}");
            }

            try
            {
                using var response = await Http.GetAsync($"{Url}/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"edge {NodeId} did not answer /health within {timeout}\n{DescribeLog()}");
            }

            await Task.Delay(100);
        }
    }
}
