using MoqCluster.Interop.Tests.CSharp;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>
/// The Protocol library's server side on its own (no edge): an in-process Kestrel host accepts each npm client with
/// <c>MoqWebSocketAcceptor</c> + <c>MoqSession.AcceptAsync</c>. The npm client publishes and the C# side subscribes
/// through the origin, verifying every frame; then the C# side publishes and the npm client subscribes and verifies.
/// Every library at its default offer, and <c>@moq/net</c> pinned to each reachable version and framing.
/// </summary>
public sealed class ServerSideSessionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Groups = 4;
    private const int Frames = 3;
    private const int Size = 25_000;
    private static readonly TimeSpan HardTimeout = NpmFlow.HardTimeout;
    private InProcessMoqServer? _server;

    private InProcessMoqServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>(library, pinned subprotocol or null, version the script reports, version the server negotiates).</summary>
    public static TheoryData<string, string?, string, MoqVersion> Clients() => new()
    {
        { "net", null, "moq-lite-05", MoqVersion.Lite05 },
        { "lite", null, "moq-lite-02", MoqVersion.Lite02 },
        { "kixelated", null, "moq-lite-01", MoqVersion.Lite01 },
        { "net", "qmux-00.moq-lite-03", "moq-lite-03", MoqVersion.Lite03 },
        { "net", "qmux-00.moq-lite-04", "moq-lite-04", MoqVersion.Lite04 },
        { "net", "qmux-01.moq-lite-05", "moq-lite-05", MoqVersion.Lite05 },
        { "net", "qmux-02.moq-lite-04", "moq-lite-04", MoqVersion.Lite04 },
        { "net", "qmux-00.moql", "moq-lite-02", MoqVersion.Lite02 },
        { "net", "qmux-00", "moq-lite-02", MoqVersion.Lite02 },
        { "net", "webtransport", "moq-lite-02", MoqVersion.Lite02 },
    };

    public async Task InitializeAsync() => _server = await InProcessMoqServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task NpmPublisherIsVerifiedByCSharpSubscriber(string lib, string? subprotocol, string version, MoqVersion serverVersion)
    {
        var path = $"to-cs/{lib}-{subprotocol ?? "default"}";
        using var feed = Server.Origin.Consumer().Announced(MoqPath.Parse("to-cs"));
        await using var pub = await NodeInterop.StartAsync(
            "pub.mjs",
            [
                Server.Url, path, "video", "--lib", lib, "--groups", $"{Groups}", "--frames", $"{Frames}", "--size", $"{Size}", "--timeout", "60",
                .. Pin(subprotocol),
            ],
            output.WriteLine);

        var broadcast = await AnnouncementWaiter.ActiveAsync(feed, path, HardTimeout, Server.Describe);
        TrackReadReport report;
        using (var track = broadcast.Subscribe("video"))
        {
            report = await CSharpTrackReader.ReadAsync(track, Groups, HardTimeout);
        }

        var published = await pub.WaitAsync(HardTimeout);

        CSharpAssert.ReadAll(report, Groups, Frames, Size, published.Describe() + Server.Describe());
        InteropAssert.Sent(published, Groups);
        InteropAssert.Negotiated(published, version, subprotocol);
        AssertServerSession(subprotocol, serverVersion);
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task CSharpPublisherIsVerifiedByNpmSubscriber(string lib, string? subprotocol, string version, MoqVersion serverVersion)
    {
        var path = $"from-cs/{lib}-{subprotocol ?? "default"}";
        var broadcast = Server.Origin.Producer().CreateBroadcast(MoqPath.Parse(path));
        var track = broadcast.CreateTrack("video");

        await using var sub = await NodeInterop.StartAsync(
            "sub.mjs",
            [Server.Url, path, "video", "--lib", lib, "--expect-groups", $"{Groups}", "--timeout", "60", .. Pin(subprotocol)],
            output.WriteLine);
        await CSharpTrackWriter.WaitForSubscriberAsync(track, HardTimeout, Server.Describe);
        await CSharpTrackWriter.WriteAsync(track, Groups, Frames, Size, TimeSpan.FromMilliseconds(30), g => NpmEvents.GroupReportedAsync(sub, g));
        var received = await sub.WaitAsync(HardTimeout);
        broadcast.Finish();

        InteropAssert.ReceivedAll(received, Groups, Frames, Size, Server.Describe());
        InteropAssert.Negotiated(received, version, subprotocol);
        AssertServerSession(subprotocol, serverVersion);
    }

    private static string[] Pin(string? subprotocol) => subprotocol is null ? [] : ["--subprotocols", subprotocol];

    private void AssertServerSession(string? subprotocol, MoqVersion version)
    {
        Assert.Empty(Server.Failures);
        var session = Assert.Single(Server.Sessions);
        Assert.Equal(version, session.Version);
        if (subprotocol is not null)
        {
            Assert.Equal(subprotocol, session.Subprotocol);
        }
    }
}
