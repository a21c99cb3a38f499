using MoqCluster.Interop.Tests.CSharp;
using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>
/// The C# <see cref="MoqClient"/> as a third publisher and a third subscriber next to the npm libraries, through
/// the real edge process, at the versions it can be pinned to.
/// </summary>
public sealed class CSharpClientThroughEdgeTests(EdgeProcessFixture edge, ITestOutputHelper output) : IClassFixture<EdgeProcessFixture>
{
    private const int Groups = 4;
    private const int Frames = 3;
    private const int Size = 30_000;
    private static readonly TimeSpan HardTimeout = NpmFlow.HardTimeout;
    private static readonly TimeSpan GroupInterval = TimeSpan.FromMilliseconds(50);

    private static readonly Dictionary<string, string> NpmVersion = new()
    {
        ["net"] = "moq-lite-05",
        ["lite"] = "moq-lite-02",
        ["kixelated"] = "moq-lite-01",
    };

    [Theory]
    [InlineData("net", MoqVersion.Lite05, Size)]
    [InlineData("lite", MoqVersion.Lite05, Size)]
    [InlineData("kixelated", MoqVersion.Lite05, Size)]
    [InlineData("net", MoqVersion.Lite04, Size)]
    [InlineData("lite", MoqVersion.Lite03, Size)]
    [InlineData("kixelated", MoqVersion.Lite02, Size)]
    [InlineData("kixelated", MoqVersion.Lite05, 200_000)]
    [InlineData("lite", MoqVersion.Lite02, 200_000)]
    public async Task CSharpPublisherReachesNpmSubscriber(string subLib, MoqVersion version, int size)
    {
        var path = $"cs-pub/{subLib}-{version.Name()}-{size}";
        await using var client = await MoqClient.ConnectAsync(new Uri(edge.AnonUrl), new MoqClientOptions { Versions = [version] });
        Assert.Equal(version, client.Version);
        var broadcast = client.Publish(path);
        var track = broadcast.CreateTrack("video");

        await using var sub = await NodeInterop.StartAsync(
            "sub.mjs", [edge.AnonUrl, path, "video", "--lib", subLib, "--expect-groups", $"{Groups}", "--timeout", "60"], output.WriteLine);
        await CSharpTrackWriter.WaitForSubscriberAsync(track, HardTimeout, () => edge.DescribeLog());
        await CSharpTrackWriter.WriteAsync(track, Groups, Frames, size, GroupInterval, g => NpmEvents.GroupReportedAsync(sub, g));
        var received = await sub.WaitAsync(HardTimeout);
        broadcast.Finish();

        InteropAssert.ReceivedAll(received, Groups, Frames, size, edge.DescribeLog());
        InteropAssert.Negotiated(received, NpmVersion[subLib], null);
    }

    [Theory]
    [InlineData("net", MoqVersion.Lite05)]
    [InlineData("lite", MoqVersion.Lite05)]
    [InlineData("kixelated", MoqVersion.Lite05)]
    [InlineData("net", MoqVersion.Lite03)]
    [InlineData("lite", MoqVersion.Lite02)]
    [InlineData("kixelated", MoqVersion.Lite04)]
    public async Task CSharpSubscriberVerifiesNpmPublisher(string pubLib, MoqVersion version)
    {
        var path = $"cs-sub/{pubLib}-{version.Name()}";
        await using var pub = await NodeInterop.StartAsync(
            "pub.mjs",
            [edge.AnonUrl, path, "video", "--lib", pubLib, "--groups", $"{Groups}", "--frames", $"{Frames}", "--size", $"{Size}", "--timeout", "60"],
            output.WriteLine);
        await pub.WaitForEventAsync("published", HardTimeout);
        await using var client = await MoqClient.ConnectAsync(new Uri(edge.AnonUrl), new MoqClientOptions { Versions = [version] });
        Assert.Equal(version, client.Version);

        using var feed = client.Announced("cs-sub");
        var broadcast = await AnnouncementWaiter.ActiveAsync(feed, path, HardTimeout, () => edge.DescribeLog());
        TrackReadReport report;
        using (var track = broadcast.Subscribe("video"))
        {
            report = await CSharpTrackReader.ReadAsync(track, Groups, HardTimeout);
        }

        var published = await pub.WaitAsync(HardTimeout);

        CSharpAssert.ReadAll(report, Groups, Frames, Size, edge.DescribeLog());
        InteropAssert.Sent(published, Groups);
        InteropAssert.Negotiated(published, NpmVersion[pubLib], null);
    }

    [Theory]
    [InlineData(MoqVersion.Lite05, MoqVersion.Lite02, null)]
    [InlineData(MoqVersion.Lite01, MoqVersion.Lite04, null)]
    [InlineData(MoqVersion.Lite05, MoqVersion.Lite01, "webtransport")]
    [InlineData(MoqVersion.Lite05, MoqVersion.Lite02, "webtransport")]
    public async Task CSharpPublisherReachesCSharpSubscriber(MoqVersion pubVersion, MoqVersion subVersion, string? subSubprotocol)
    {
        var path = $"cs-cs/{pubVersion.Name()}-{subVersion.Name()}-{subSubprotocol}";
        await using var publisher = await MoqClient.ConnectAsync(new Uri(edge.AnonUrl), new MoqClientOptions { Versions = [pubVersion] });
        await using var subscriber = await MoqClient.ConnectAsync(
            new Uri(edge.AnonUrl), new MoqClientOptions { Versions = [subVersion], Subprotocols = subSubprotocol is null ? null : [subSubprotocol] });
        Assert.Equal(pubVersion, publisher.Version);
        Assert.Equal(subVersion, subscriber.Version);
        var producer = publisher.Publish(path);
        var video = producer.CreateTrack("video");

        using var feed = subscriber.Announced("cs-cs");
        var broadcast = await AnnouncementWaiter.ActiveAsync(feed, path, HardTimeout, () => edge.DescribeLog());
        using var track = broadcast.Subscribe("video");
        var report = await CSharpFlow.RunAsync(video, track, Groups, Frames, Size, GroupInterval, HardTimeout, () => edge.DescribeLog());
        producer.Finish();

        CSharpAssert.ReadAll(report, Groups, Frames, Size, edge.DescribeLog());
        Assert.Null(await AnnouncementWaiter.NextAsync(feed, path, active: false, HardTimeout, () => edge.DescribeLog()));
    }
}
