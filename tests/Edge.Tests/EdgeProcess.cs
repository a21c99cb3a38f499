using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Tests;

/// <summary>The built edge (<c>MoqCluster.Edge.dll</c>) run as a child process on a free 127.0.0.1 port.</summary>
public sealed class EdgeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private EdgeProcess(ChildProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    /// <summary>The running process.</summary>
    public ChildProcess Process { get; }

    /// <summary>The HTTP port it listens on.</summary>
    public int Port { get; }

    /// <summary>Folder holding the edge assembly (copied next to the tests).</summary>
    public static string Directory => AppContext.BaseDirectory;

    /// <summary>Path of the edge assembly.</summary>
    public static string Dll => Path.Combine(Directory, "MoqCluster.Edge.dll");

    /// <summary>A URL on the edge, e.g. <c>Url("ws", "/demo")</c>.</summary>
    public Uri Url(string scheme, string pathAndQuery) => new($"{scheme}://127.0.0.1:{Port}{pathAndQuery}");

    /// <summary>Starts the relay with extra configuration arguments and waits until it listens.</summary>
    public static async Task<EdgeProcess> StartAsync(params string[] arguments)
    {
        var port = FreePort.Get();
        var process = ProcessRunner.Start("dotnet", [Dll, "--urls", $"http://127.0.0.1:{port}", .. arguments], Directory);
        try
        {
            await process.WaitForLineAsync(line => line.Contains("Now listening on", StringComparison.Ordinal), StartTimeout);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        return new EdgeProcess(process, port);
    }

    /// <summary>Runs the edge executable to completion (e.g. the <c>token</c> CLI).</summary>
    public static Task<ProcessResult> RunAsync(params string[] arguments)
        => ProcessRunner.RunAsync("dotnet", [Dll, .. arguments], StartTimeout, Directory);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
