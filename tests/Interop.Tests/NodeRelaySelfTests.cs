using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>
/// Proves the interop harness end to end without any C# protocol code: the npm clients
/// (pub.mjs / sub.mjs / announced.mjs) talk to each other through the @moq/net-based server.mjs.
/// </summary>
public sealed class NodeRelaySelfTests(RelayServerFixture fixture, ITestOutputHelper output) : IClassFixture<RelayServerFixture>
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromSeconds(90);

    private NodeServer Server => fixture.Server;

    [Theory]
    [InlineData("net", "net", "moq-lite-05")]
    [InlineData("net", "lite", "moq-lite-02")]
    [InlineData("lite", "net", "moq-lite-05")]
    [InlineData("lite", "lite", "moq-lite-02")]
    public async Task PublisherReachesSubscriberThroughServer(string pubLib, string subLib, string subscriberVersion)
    {
        var url = Server.UrlFor("selftest");
        var broadcast = $"pair/{pubLib}-{subLib}";

        await using var sub = await NodeInterop.StartAsync(
            "sub.mjs",
            [url, broadcast, "video", "--lib", subLib, "--expect-groups", "5", "--timeout", "45"],
            output.WriteLine);
        var pub = await NodeInterop.RunAsync(
            "pub.mjs",
            [url, broadcast, "video", "--lib", pubLib, "--groups", "5", "--frames", "4", "--size", "700", "--timeout", "45"],
            HardTimeout,
            output.WriteLine);
        var received = await sub.WaitAsync(HardTimeout);

        Assert.True(pub.Ok, pub.Describe());
        Assert.Equal(5, pub.SummaryInt("groups_sent"));
        Assert.True(received.Ok, received.Describe() + ServerLog());
        Assert.Equal(5, received.SummaryInt("groups_complete"));
        Assert.Equal(20, received.SummaryInt("frames"));
        Assert.Equal(20 * 700, received.SummaryInt("bytes"));
        Assert.Equal(0, received.SummaryInt("payload_errors"));
        Assert.Equal(0, received.SummaryInt("order_errors"));
        Assert.Equal(0, received.SummaryInt("duplicate_frames"));
        Assert.Equal(0, received.SummaryInt("sequence_errors"));
        Assert.Empty(received.SummaryErrors);
        Assert.Equal(subscriberVersion, received.SummaryString("version"));
    }

    [Fact]
    public async Task AnnouncedSeesBroadcastComeAndGo()
    {
        var url = Server.UrlFor("selftest");
        await using var watcher = await NodeInterop.StartAsync(
            "announced.mjs",
            [url, "watch", "--lib", "net", "--expect-active", "1", "--expect-ended", "1", "--timeout", "45"],
            output.WriteLine);
        await watcher.WaitForEventAsync("connected", HardTimeout);

        var pub = await NodeInterop.RunAsync(
            "pub.mjs",
            [url, "watch/cam", "video", "--lib", "lite", "--no-wait-subscriber", "--groups", "1", "--linger", "1", "--timeout", "30"],
            HardTimeout,
            output.WriteLine);
        var seen = await watcher.WaitAsync(HardTimeout);

        Assert.True(pub.Ok, pub.Describe());
        Assert.True(seen.Ok, seen.Describe() + ServerLog());
        var announces = seen.EventsNamed("announce").Select(e => (e.GetProperty("path").GetString(), e.GetProperty("active").GetBoolean())).ToList();
        Assert.Equal([("watch/cam", true), ("watch/cam", false)], announces);
    }

    [Fact]
    public async Task ServerReportsSessionsAndForwarding()
    {
        var url = Server.UrlFor("report");
        await using var sub = await NodeInterop.StartAsync("sub.mjs", [url, "r/cam", "video", "--lib", "net", "--expect-groups", "2", "--timeout", "45"], output.WriteLine);
        var pub = await NodeInterop.RunAsync("pub.mjs", [url, "r/cam", "video", "--lib", "net", "--groups", "2", "--timeout", "45"], HardTimeout, output.WriteLine);
        var received = await sub.WaitAsync(HardTimeout);
        Assert.True(pub.Ok && received.Ok, pub.Describe() + received.Describe());

        var announce = await Server.WaitForEventAsync("announce", e => e.GetProperty("path").GetString() == "report/r/cam", HardTimeout);
        Assert.True(announce.GetProperty("active").GetBoolean());
        await Server.WaitForEventAsync("forward", e => e.GetProperty("path").GetString() == "report/r/cam" && e.GetProperty("track").GetString() == "video", HardTimeout);
        Assert.Contains(Server.Events, e => JsonLines.EventName(e) == "session" && e.GetProperty("version").GetString() == "moq-lite-05");
    }

    [Fact]
    public async Task SubscriberFailsWhenNothingIsPublished()
    {
        // The harness must report failure, not a vacuous pass.
        var result = await NodeInterop.RunAsync(
            "sub.mjs",
            [Server.UrlFor("selftest"), "nobody/here", "video", "--lib", "net", "--expect-groups", "1", "--timeout", "3"],
            HardTimeout,
            output.WriteLine);

        Assert.Equal(1, result.ExitCode);
        Assert.False(result.Ok);
        Assert.Equal(0, result.SummaryInt("frames"));
        Assert.Contains(result.SummaryErrors, e => e.Contains("announce", StringComparison.Ordinal));
    }

    private string ServerLog() =>
        "\n--- server events ---\n" + string.Join('\n', Server.Events.TakeLast(40).Select(e => e.GetRawText()));
}
