using System.Net;
using System.Net.Sockets;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>The process helpers kill what they start.</summary>
public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task RunPastItsDeadlineIsKilledAndReported()
    {
        var result = await ProcessRunner.RunAsync("sleep", ["300"], TimeSpan.FromSeconds(1));

        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task DisposeKillsTheWholeProcessTree()
    {
        int grandchild;
        int child;
        await using (var process = ProcessRunner.Start("sh", ["-c", "sleep 300 & echo $!; wait"]))
        {
            child = process.Id;
            var line = await process.WaitForLineAsync(l => int.TryParse(l, out _), TimeSpan.FromSeconds(30));
            grandchild = int.Parse(line, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(IsRunning(grandchild));
        }

        Assert.True(await GoneAsync(child), $"child {child} survived dispose");
        Assert.True(await GoneAsync(grandchild), $"grandchild {grandchild} survived dispose");
    }

    [Fact]
    public async Task CapturesStdoutLinesStderrAndExitCode()
    {
        var result = await ProcessRunner.RunAsync("sh", ["-c", "echo one; echo two; echo oops >&2; exit 3"], TimeSpan.FromSeconds(30));

        Assert.False(result.TimedOut);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal(["one", "two"], result.StdoutLines);
        Assert.Contains("oops", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void FreePortIsBindableOnLoopback()
    {
        var port = FreePort.Get();
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Assert.Equal(port, ((IPEndPoint)listener.LocalEndpoint).Port);
    }

    // A killed process counts as gone once it no longer exists or is a zombie awaiting its reaper.
    private static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return false;
        }

        try
        {
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task<bool> GoneAsync(int pid)
    {
        for (var i = 0; i < 100 && IsRunning(pid); i++)
        {
            await Task.Delay(50);
        }

        return !IsRunning(pid);
    }
}
