using MoqCluster.Interop.Tests.CSharp;
using MoqCluster.Protocol.Client;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>
/// The real edge relay (<see cref="EdgeProcess"/>: built by the solution build, never here, on a free loopback port,
/// killed by PID on dispose) shared by the tests of a class, warmed up by one C# flow before the first test.
/// </summary>
public sealed class EdgeProcessFixture : IAsyncLifetime
{
    /// <summary>The edge process.</summary>
    public EdgeProcess Edge { get; } = new();

    /// <summary>The URL of the public (anonymous) root, <c>http://127.0.0.1:PORT/anon</c>.</summary>
    public string AnonUrl => Edge.AnonUrl;

    /// <summary>Every stdout line of the edge's console logger so far (single-line format).</summary>
    public IReadOnlyList<string> LogLines => Edge.LogLines;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        await Edge.StartAsync();
        await WarmUpAsync();
    }

    /// <summary>Kills the edge (by PID, with its process tree).</summary>
    public async Task DisposeAsync() => await Edge.DisposeAsync();

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
    public string DescribeLog(int lines = 40) => Edge.DescribeLog(lines);

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
}
