using System.Net;
using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>The built edge (<c>MoqCluster.Edge.dll</c>) running as a child process on free loopback ports.</summary>
internal sealed class EdgeProcess : IAsyncDisposable
{
    private readonly ChildProcess _child;

    private EdgeProcess(ChildProcess child, int httpPort, int httpsPort, int tcpPort)
    {
        _child = child;
        HttpPort = httpPort;
        HttpsPort = httpsPort;
        TcpPort = tcpPort;
    }

    /// <summary>The plain HTTP/WebSocket port.</summary>
    public int HttpPort { get; }

    /// <summary>The HTTPS port (generated certificate unless configured).</summary>
    public int HttpsPort { get; }

    /// <summary>The QMux-over-TCP port.</summary>
    public int TcpPort { get; }

    /// <summary><c>http://127.0.0.1:port</c>.</summary>
    public Uri Http => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>The process, for its output.</summary>
    public ChildProcess Child => _child;

    /// <summary>Where the edge build lives, next to this test build (same configuration and framework).</summary>
    public static string EdgeDll => TestSupport.EdgeProcess.EdgeDll;

    /// <summary>Starts an edge with extra <c>--Key=Value</c> arguments and waits until <c>/health</c> answers.</summary>
    public static async Task<EdgeProcess> StartAsync(params string[] extraArguments)
    {
        var (http, https, tcp) = (FreePort.Get(), FreePort.Get(), FreePort.Get());
        string[] arguments =
        [
            EdgeDll,
            $"--urls=http://127.0.0.1:{http};https://127.0.0.1:{https}",
            $"--Tcp:Listen=127.0.0.1:{tcp}",
            .. extraArguments,
        ];
        var child = ProcessRunner.Start("dotnet", arguments, workingDirectory: Path.GetDirectoryName(EdgeDll),
            environment: new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Production" });
        var edge = new EdgeProcess(child, http, https, tcp);
        try
        {
            await edge.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
        return edge;
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_child.HasExited)
                throw new InvalidOperationException($"edge exited during startup\n{string.Join('\n', _child.StdoutLines)}\n{_child.Stderr}");
            try
            {
                using var response = await client.GetAsync(new Uri(Http, "/health"));
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy starting to answer within the request timeout (a loaded CI machine):
                // both mean "not healthy yet"; only the overall deadline fails the start.
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"edge not healthy within {timeout}\n{string.Join('\n', _child.StdoutLines)}\n{_child.Stderr}");
            await Task.Delay(100);
        }
    }

    /// <summary>Sends SIGTERM (what an orchestrator does to stop the edge).</summary>
    public async Task TerminateAsync()
    {
        var result = await ProcessRunner.RunAsync("kill", ["-TERM", _child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        Assert.Equal(0, result.ExitCode);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _child.DisposeAsync();
}
