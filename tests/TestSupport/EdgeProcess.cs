using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MoqCluster.TestSupport;

/// <summary>
/// The relay edge as a child process on free loopback ports, started from the build output
/// (<c>src/Edge/bin/&lt;Configuration&gt;/net10.0/MoqCluster.Edge.dll</c>, or <c>MOQ_EDGE_DLL</c>): the one
/// launcher every test project uses. Construct it, optionally put files in <see cref="TempDirectory"/>, then
/// <see cref="StartAsync"/>, which returns once <c>GET /health</c> answers. Every output line is kept for
/// assertions and failure messages. Disposing kills the process tree by PID and deletes <see cref="TempDirectory"/>;
/// use it with <c>await using</c> (or from a fixture's dispose) so that happens when a test fails too.
/// </summary>
public sealed class EdgeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    // FreePort can race with another process taking the port between our probe and the edge's bind, which shows
    // as an early exit: a start that has never succeeded retries on fresh ports this many times in all.
    private const int StartAttempts = 3;

    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly string? _nodeId;
    private readonly bool _https;
    private readonly bool _tcp;
    private readonly Action<string>? _log;
    private readonly List<string> _previousLog = [];
    private ChildProcess? _process;
    private string? _tempDirectory;
    private bool _started;
    private int _port;
    private int? _httpsPort;
    private int? _tcpPort;

    /// <summary>Picks the ports; nothing runs until <see cref="StartAsync"/>.</summary>
    /// <param name="nodeId">Cluster node id (<c>--Cluster:NodeId</c>) and the label in logs; none for a single edge.</param>
    /// <param name="https">Also listen on <c>https://127.0.0.1:<see cref="HttpsPort"/></c> (generated certificate unless configured).</param>
    /// <param name="tcp">Also listen for QMux over TCP on <c>127.0.0.1:<see cref="TcpPort"/></c>.</param>
    /// <param name="log">Receives every output line, prefixed with the label.</param>
    public EdgeProcess(string? nodeId = null, bool https = false, bool tcp = false, Action<string>? log = null)
    {
        _nodeId = nodeId;
        _https = https;
        _tcp = tcp;
        _log = log;
        PickPorts();
    }

    /// <summary>The cluster node id, or <c>edge</c> for an edge started without one.</summary>
    public string NodeId => _nodeId ?? "edge";

    /// <summary>The plain HTTP/WebSocket port.</summary>
    public int Port => _port;

    /// <summary>The HTTPS port.</summary>
    /// <exception cref="InvalidOperationException">The edge was created without <c>https</c>.</exception>
    public int HttpsPort => _httpsPort ?? throw new InvalidOperationException($"{NodeId} has no HTTPS listener");

    /// <summary>The QMux-over-TCP port.</summary>
    /// <exception cref="InvalidOperationException">The edge was created without <c>tcp</c>.</exception>
    public int TcpPort => _tcpPort ?? throw new InvalidOperationException($"{NodeId} has no TCP listener");

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary><see cref="Url"/> as a <see cref="Uri"/>, a base for relative paths.</summary>
    public Uri Http => new(Url);

    /// <summary>The public root, <c>http://127.0.0.1:PORT/anon</c>.</summary>
    public string AnonUrl => $"{Url}/anon";

    /// <summary>The running (or last) process: PID, live output, exit.</summary>
    /// <exception cref="InvalidOperationException">Not started yet.</exception>
    public ChildProcess Process => _process ?? throw new InvalidOperationException($"{NodeId} not started");

    /// <summary>Every stdout line of the current run so far (the edge's single-line console log).</summary>
    public IReadOnlyList<string> LogLines => Process.StdoutLines;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// A folder of this edge's own (keys, certificates to pass as arguments), created on first use and deleted on
    /// dispose, so a failing test leaves nothing behind.
    /// </summary>
    public string TempDirectory => _tempDirectory ??= Directory.CreateTempSubdirectory("moq-edge-").FullName;

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

    /// <summary>A URL on the edge's HTTP port with another scheme, e.g. <c>Address("ws", "/demo?jwt=…")</c>.</summary>
    /// <param name="scheme">URL scheme, e.g. <c>ws</c> or <c>http</c>.</param>
    /// <param name="pathAndQuery">Path (and query), starting with <c>/</c>.</param>
    public Uri Address(string scheme, string pathAndQuery) => new($"{scheme}://127.0.0.1:{Port}{pathAndQuery}");

    /// <summary>
    /// Starts the edge with further command-line settings and waits for <c>/health</c>. Also starts it again after
    /// <see cref="Kill"/> or an exit, on the same ports (earlier output stays in <see cref="DescribeLog"/>).
    /// </summary>
    /// <param name="arguments">Settings such as <c>--Cluster:Etcd=…</c> or <c>--Auth:Key=…</c>.</param>
    /// <exception cref="InvalidOperationException">The edge is not built, is running, or exited during startup.</exception>
    /// <exception cref="TimeoutException"><c>/health</c> did not answer in time.</exception>
    public async Task StartAsync(params string[] arguments)
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

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnceAsync(dll, arguments);
                _started = true;
                return;
            }
            catch (EdgeExitedException) when (!_started && attempt < StartAttempts)
            {
                PickPorts();
            }
        }
    }

    /// <summary>Runs the edge executable to completion, e.g. the <c>token</c> command line (killed after 60 s).</summary>
    /// <param name="arguments">The whole command line after the assembly.</param>
    public static Task<ProcessResult> RunAsync(params string[] arguments)
    {
        var dll = EdgeDll;
        return ProcessRunner.RunAsync("dotnet", [dll, .. arguments], StartTimeout, Path.GetDirectoryName(dll), LogEnvironment());
    }

    /// <summary>SIGKILL: the edge dies at once, without revoking its lease or closing its sessions (a crash).</summary>
    public void Kill() => _process?.Kill();

    /// <summary>SIGTERM, what an orchestrator sends to stop the edge: it drains and exits on its own.</summary>
    /// <exception cref="InvalidOperationException"><c>kill -TERM</c> failed.</exception>
    public async Task TerminateAsync()
    {
        var result = await ProcessRunner.RunAsync("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {Process.Id} failed: {result.Describe()}");
        }
    }

    /// <summary>The edge's <c>GET /cluster</c> report (members, links and their upstream subscriptions).</summary>
    public async Task<JsonElement> ClusterStatusAsync()
    {
        var body = await Client.GetStringAsync($"{Url}/cluster");
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

    /// <summary>The last lines of the edge's log (all runs) and of its stderr, for failure messages.</summary>
    /// <param name="lines">How many stdout lines.</param>
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
            sb.AppendLine("--- stderr ---").AppendLine(stderr[Math.Max(0, stderr.Length - 4000)..]);
        }

        return sb.ToString();
    }

    /// <summary>Kills the process tree (by PID) and deletes <see cref="TempDirectory"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_tempDirectory is not null)
        {
            try
            {
                Directory.Delete(_tempDirectory, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
                // A test removed it already.
            }

            _tempDirectory = null;
        }
    }

    // The same log shape whatever appsettings or the caller's environment say: tests match single lines.
    private static Dictionary<string, string?> LogEnvironment() => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        ["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled",
        ["Logging__LogLevel__Default"] = "Information",
        ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        ["DOTNET_NOLOGO"] = "1",
    };

    private void PickPorts()
    {
        _port = FreePort.Get();
        _httpsPort = _https ? FreePort.Get() : null;
        _tcpPort = _tcp ? FreePort.Get() : null;
    }

    private async Task StartOnceAsync(string dll, string[] arguments)
    {
        if (_process is not null)
        {
            _previousLog.AddRange(_process.StdoutLines);
            await _process.DisposeAsync();
        }

        var urls = _httpsPort is { } https ? $"{Url};https://127.0.0.1:{https}" : Url;
        List<string> command = [dll, "--urls", urls];
        if (_nodeId is not null)
        {
            command.Add($"--Cluster:NodeId={_nodeId}");
        }

        if (_tcpPort is { } tcp)
        {
            command.Add($"--Tcp:Listen=127.0.0.1:{tcp}");
        }

        command.AddRange(arguments);
        _process = ProcessRunner.Start(
            "dotnet",
            command,
            workingDirectory: Path.GetDirectoryName(dll),
            environment: LogEnvironment(),
            log: _log is null ? null : line => _log($"[{NodeId}] {line}"));
        try
        {
            await WaitHealthyAsync();
        }
        catch
        {
            // Killed now rather than at dispose, so a retry can bind the ports; kept for DescribeLog until then.
            _process.Kill();
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    private async Task WaitHealthyAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (await EdgeHealth.WaitAsync(Url, StartTimeout, () => !Process.HasExited) && await OtherListenersAcceptAsync(StartTimeout - clock.Elapsed))
        {
            return;
        }

        throw Process.HasExited
            ? new EdgeExitedException($"edge {NodeId} exited during startup\n{DescribeLog()}")
            : new TimeoutException($"edge {NodeId} did not answer /health within {StartTimeout}\n{DescribeLog()}");
    }

    // /health answering proves only the HTTP port, and only that *some* process serves it: a port picked by FreePort
    // can be taken by another test's server before the edge binds it, and then that server answers while this edge
    // exits on the failed bind. So the edge is ready when its HTTPS and TCP ports accept too and it still runs.
    private async Task<bool> OtherListenersAcceptAsync(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var port in new[] { _httpsPort, _tcpPort })
        {
            if (port is not { } listening)
            {
                continue;
            }

            while (true)
            {
                if (Process.HasExited)
                {
                    return false;
                }

                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, listening);
                    break;
                }
                catch (SocketException) when (clock.Elapsed < timeout)
                {
                    await Task.Delay(100);
                }
                catch (SocketException)
                {
                    return false;
                }
            }
        }

        // A foreign server on the HTTP port would have let a failed bind pass the checks above; the exit shows here.
        await Task.Delay(50);
        return !Process.HasExited;
    }

    private sealed class EdgeExitedException(string message) : InvalidOperationException(message);
}
