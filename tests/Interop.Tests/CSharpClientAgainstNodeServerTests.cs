using MoqCluster.Interop.Tests.CSharp;
using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>
/// The C# <see cref="MoqClient"/> against a server we did not write: <c>server.mjs</c>, built on <c>@moq/net</c>
/// 0.3.4's server side, in relay, echo and source modes, with the client pinned to each version it can reach there.
/// </summary>
public sealed class CSharpClientAgainstNodeServerTests(RelayServerFixture relay, ITestOutputHelper output) : IClassFixture<RelayServerFixture>
{
    private const int Groups = 4;
    private const int Frames = 3;
    private const int Size = 25_000;
    private static readonly TimeSpan HardTimeout = NpmFlow.HardTimeout;
    private static readonly TimeSpan GroupInterval = TimeSpan.FromMilliseconds(30);

    [Theory]
    [InlineData(MoqVersion.Lite05, null, "qmux-00.moq-lite-05")]
    [InlineData(MoqVersion.Lite05, "qmux-01.moq-lite-05", "qmux-01.moq-lite-05")]
    [InlineData(MoqVersion.Lite04, null, "qmux-00.moq-lite-04")]
    [InlineData(MoqVersion.Lite03, null, "qmux-00.moq-lite-03")]
    [InlineData(MoqVersion.Lite02, null, "qmux-00.moql")]
    [InlineData(MoqVersion.Lite02, "webtransport", "webtransport")]
    [InlineData(MoqVersion.Lite01, null, "qmux-00.moql")]
    public async Task CSharpPublisherReachesCSharpSubscriberThroughRelay(MoqVersion version, string? pinned, string selected)
    {
        var server = relay.Server;
        var url = new Uri(server.UrlFor("cs"));
        var options = new MoqClientOptions { Versions = [version], Subprotocols = pinned is null ? null : [pinned] };
        var path = $"relay/{version.Name()}-{pinned ?? "default"}";
        var sessionsBefore = server.Events.Count(e => IsSession(e, version, selected));
        await using var publisher = await MoqClient.ConnectAsync(url, options);
        await using var subscriber = await MoqClient.ConnectAsync(url, options);
        Assert.Equal(version, publisher.Version);
        Assert.Equal(version, subscriber.Version);
        var producer = publisher.Publish(path);
        var video = producer.CreateTrack("video");
        await ServerAnnouncedAsync(server, $"cs/{path}");

        using var feed = subscriber.Announced("relay");
        var broadcast = await AnnouncementWaiter.ActiveAsync(feed, path, HardTimeout, () => ServerLog(server));
        using var track = broadcast.Subscribe("video");
        var report = await CSharpFlow.RunAsync(video, track, Groups, Frames, Size, GroupInterval, HardTimeout, () => ServerLog(server));
        producer.Finish();

        CSharpAssert.ReadAll(report, Groups, Frames, Size, ServerLog(server));
        Assert.Null(await AnnouncementWaiter.NextAsync(feed, path, active: false, HardTimeout, () => ServerLog(server)));
        Assert.Equal(sessionsBefore + 2, server.Events.Count(e => IsSession(e, version, selected)));
    }

    [Theory]
    [InlineData("net", MoqVersion.Lite05, "moq-lite-05")]
    [InlineData("lite", MoqVersion.Lite05, "moq-lite-02")]
    [InlineData("net", MoqVersion.Lite02, "moq-lite-05")]
    [InlineData("lite", MoqVersion.Lite03, "moq-lite-02")]
    public async Task CSharpPublisherIsVerifiedByNpmSubscriberThroughRelay(string subLib, MoqVersion version, string subVersion)
    {
        var server = relay.Server;
        var url = server.UrlFor("cs");
        var path = $"to-npm/{subLib}-{version.Name()}";
        await using var client = await MoqClient.ConnectAsync(new Uri(url), new MoqClientOptions { Versions = [version] });
        Assert.Equal(version, client.Version);
        var producer = client.Publish(path);
        var video = producer.CreateTrack("video");
        await ServerAnnouncedAsync(server, $"cs/{path}");

        await using var sub = await NodeInterop.StartAsync(
            "sub.mjs", [url, path, "video", "--lib", subLib, "--expect-groups", $"{Groups}", "--timeout", "60"], output.WriteLine);
        await CSharpTrackWriter.WaitForSubscriberAsync(video, HardTimeout, () => ServerLog(server));
        await CSharpTrackWriter.WriteAsync(video, Groups, Frames, Size, GroupInterval, g => NpmEvents.GroupReportedAsync(sub, g));
        var received = await sub.WaitAsync(HardTimeout);
        producer.Finish();

        InteropAssert.ReceivedAll(received, Groups, Frames, Size, ServerLog(server));
        InteropAssert.Negotiated(received, subVersion, null);
    }

    [Theory]
    [InlineData("net", MoqVersion.Lite05)]
    [InlineData("lite", MoqVersion.Lite04)]
    [InlineData("net", MoqVersion.Lite02)]
    public async Task NpmPublisherIsVerifiedByCSharpSubscriberThroughRelay(string pubLib, MoqVersion version)
    {
        var server = relay.Server;
        var url = server.UrlFor("cs");
        var path = $"from-npm/{pubLib}-{version.Name()}";
        await using var pub = await NodeInterop.StartAsync(
            "pub.mjs",
            [url, path, "video", "--lib", pubLib, "--groups", $"{Groups}", "--frames", $"{Frames}", "--size", $"{Size}", "--timeout", "60"],
            output.WriteLine);
        await ServerAnnouncedAsync(server, $"cs/{path}");
        await using var client = await MoqClient.ConnectAsync(new Uri(url), new MoqClientOptions { Versions = [version] });
        Assert.Equal(version, client.Version);

        using var feed = client.Announced("from-npm");
        var broadcast = await AnnouncementWaiter.ActiveAsync(feed, path, HardTimeout, () => ServerLog(server));
        TrackReadReport report;
        using (var track = broadcast.Subscribe("video"))
        {
            report = await CSharpTrackReader.ReadAsync(track, Groups, HardTimeout);
        }

        var published = await pub.WaitAsync(HardTimeout);

        CSharpAssert.ReadAll(report, Groups, Frames, Size, published.Describe() + ServerLog(server));
        InteropAssert.Sent(published, Groups);
    }

    [Theory]
    [InlineData(MoqVersion.Lite05)]
    [InlineData(MoqVersion.Lite04)]
    [InlineData(MoqVersion.Lite02)]
    public async Task EchoServerReturnsTheClientsOwnBroadcast(MoqVersion version)
    {
        await using var server = await NodeServer.StartAsync("echo", log: output.WriteLine);
        await using var client = await MoqClient.ConnectAsync(new Uri(server.UrlFor("echo")), new MoqClientOptions { Versions = [version] });
        Assert.Equal(version, client.Version);
        var producer = client.Publish("self/cam");
        var video = producer.CreateTrack("video");
        await ServerAnnouncedAsync(server, "echo/self/cam");

        using var feed = client.Announced("self");
        var broadcast = await AnnouncementWaiter.ActiveAsync(feed, "self/cam", HardTimeout, () => ServerLog(server));
        using var track = broadcast.Subscribe("video");
        var report = await CSharpFlow.RunAsync(video, track, Groups, Frames, Size, GroupInterval, HardTimeout, () => ServerLog(server));
        producer.Finish();

        CSharpAssert.ReadAll(report, Groups, Frames, Size, ServerLog(server));
        Assert.Single(server.Events, e => JsonLines.EventName(e) == "session");
        await server.WaitForEventAsync("forward", e => e.GetProperty("track").GetString() == "video", HardTimeout);
    }

    [Theory]
    [InlineData(MoqVersion.Lite05, "qmux-00.moq-lite-05")]
    [InlineData(MoqVersion.Lite04, "qmux-00.moq-lite-04")]
    [InlineData(MoqVersion.Lite03, "qmux-00.moq-lite-03")]
    [InlineData(MoqVersion.Lite02, "qmux-00.moql")]
    [InlineData(MoqVersion.Lite01, "qmux-00.moql")]
    public async Task CSharpSubscriberVerifiesTheSourceServer(MoqVersion version, string selected)
    {
        const int groups = 5;
        const int frames = 3;
        const int size = 3000;
        await using var server = await NodeServer.StartAsync(
            "source",
            ["--broadcast", "live/src", "--track", "data", "--groups", $"{groups}", "--frames", $"{frames}", "--size", $"{size}", "--group-interval", "50"],
            output.WriteLine);
        await using var client = await MoqClient.ConnectAsync(new Uri(server.UrlFor("live")), new MoqClientOptions { Versions = [version] });
        Assert.Equal(version, client.Version);

        using var feed = client.Announced();
        var broadcast = await AnnouncementWaiter.ActiveAsync(feed, "src", HardTimeout, () => ServerLog(server));
        TrackReadReport report;
        using (var track = broadcast.Subscribe("data"))
        {
            report = await CSharpTrackReader.ReadAsync(track, groups, HardTimeout);
        }

        CSharpAssert.ReadAll(report, groups, frames, size, ServerLog(server));
        await server.WaitForEventAsync("source_done", null, HardTimeout);
        Assert.Single(server.Events, e => IsSession(e, version, selected));
    }

    // @moq/net 0.3.4's publisher (lite/publisher.js runAnnounce) snapshots its broadcasts, awaits the write of the
    // initial set, and only then watches for changes: a broadcast published in between is never announced on that
    // stream. So an ANNOUNCE_PLEASE (ours or sub.mjs's) is sent only once server.mjs holds the broadcast.
    private static Task ServerAnnouncedAsync(NodeServer server, string fullPath) =>
        server.WaitForEventAsync("announce", e => e.GetProperty("path").GetString() == fullPath && e.GetProperty("active").GetBoolean(), HardTimeout);

    private static bool IsSession(System.Text.Json.JsonElement e, MoqVersion version, string subprotocol) =>
        JsonLines.EventName(e) == "session"
        && e.GetProperty("version").GetString() == $"moq-lite-0{(uint)version & 0xff}"
        && e.GetProperty("subprotocol").GetString() == subprotocol;

    private static string ServerLog(NodeServer server) =>
        "\n--- server.mjs events ---\n" + string.Join('\n', server.Events.TakeLast(40).Select(e => e.GetRawText()));
}
