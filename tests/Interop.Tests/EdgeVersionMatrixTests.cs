namespace MoqCluster.Interop.Tests;

/// <summary>
/// Every moq-lite version and WebSocket framing the edge can reach with <c>@moq/net</c> 0.3.4, by pinning the
/// offered subprotocol on both the publisher and the subscriber (lite-01 is covered by <c>@kixelated/moq</c> and
/// SETUP-negotiated lite-02 by <c>@moq/lite</c> in <see cref="EdgeRelayMatrixTests"/>). Each pinned flow is also
/// relayed to an unpinned <c>@moq/lite</c> (lite-02) subscriber, so every version is translated to another one.
/// </summary>
public sealed class EdgeVersionMatrixTests(EdgeProcessFixture edge, ITestOutputHelper output) : IClassFixture<EdgeProcessFixture>
{
    private const int Groups = 3;
    private const int Frames = 2;
    private const int Size = 20_000;

    [Theory]
    [InlineData("qmux-00.moq-lite-03", "moq-lite-03", "lite-03")]
    [InlineData("qmux-00.moq-lite-04", "moq-lite-04", "lite-04")]
    [InlineData("qmux-00.moq-lite-05", "moq-lite-05", "lite-05")]
    [InlineData("qmux-01.moq-lite-05", "moq-lite-05", "lite-05")]
    [InlineData("qmux-02.moq-lite-04", "moq-lite-04", "lite-04")]
    [InlineData("qmux-00.moql", "moq-lite-02", "lite-02")]
    [InlineData("qmux-00", "moq-lite-02", "lite-02")]
    [InlineData("webtransport", "moq-lite-02", "lite-02")]
    public async Task PinnedSubprotocolRelaysEveryFrame(string subprotocol, string version, string edgeName)
    {
        var slug = subprotocol.Replace('.', '-');
        var pinned = new NpmFlow("net", "net", $"versions/{slug}")
        {
            Groups = Groups, Frames = Frames, Size = Size, PubSubprotocols = subprotocol, SubSubprotocols = subprotocol,
        };
        var translated = new NpmFlow("net", "lite", $"versions/{slug}-to-lite")
        {
            Groups = Groups, Frames = Frames, Size = Size, PubSubprotocols = subprotocol,
        };

        var results = await Task.WhenAll(pinned.RunAsync(edge.AnonUrl, output.WriteLine), translated.RunAsync(edge.AnonUrl, output.WriteLine));

        var log = "\n" + edge.DescribeLog();
        foreach (var (pub, sub) in results)
        {
            InteropAssert.Sent(pub, Groups, log);
            InteropAssert.ReceivedAll(sub, Groups, Frames, Size, log);
            InteropAssert.Negotiated(pub, version, subprotocol, log);
        }

        InteropAssert.Negotiated(results[0].Sub, version, subprotocol, log);
        InteropAssert.Negotiated(results[1].Sub, "moq-lite-02", "qmux-00", log);
        Assert.Contains(edge.LogLines, l => l.Contains(EdgeProcessFixture.SessionLine(edgeName, subprotocol), StringComparison.Ordinal));
    }
}
