namespace MoqCluster.Interop.Tests;

/// <summary>
/// Every (publisher library, subscriber library) pair of the npm clients through the real edge process, with
/// each side's negotiated version: <c>@moq/net</c> gets lite-05 (<c>qmux-00.moq-lite-05</c>), <c>@moq/lite</c>
/// lite-02 (bare <c>qmux-00</c> + legacy SETUP), <c>@kixelated/moq</c> lite-01 (<c>webtransport</c> framing).
/// </summary>
public sealed class EdgeRelayMatrixTests(EdgeProcessFixture edge, ITestOutputHelper output) : IClassFixture<EdgeProcessFixture>
{
    private const int Groups = 4;
    private const int Frames = 3;
    private const int Size = 1500;

    /// <summary>Library → (version reported by the script, subprotocol the edge selects, edge version name).</summary>
    private static readonly Dictionary<string, (string Version, string Subprotocol, string EdgeName)> Defaults = new()
    {
        ["net"] = ("moq-lite-05", "qmux-00.moq-lite-05", "lite-05"),
        ["lite"] = ("moq-lite-02", "qmux-00", "lite-02"),
        ["kixelated"] = ("moq-lite-01", "webtransport", "lite-01"),
    };

    /// <summary>Every ordered pair of the three libraries.</summary>
    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var pub in Defaults.Keys)
        {
            foreach (var sub in Defaults.Keys)
            {
                data.Add(pub, sub);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task PairRelaysEveryFrameAtEachLibrarysVersion(string pubLib, string subLib)
    {
        // @kixelated/moq 0.9.4 drops a group that arrives after a newer one; give each group time to land first.
        var interval = subLib == "kixelated" ? 150 : 50;
        var flow = new NpmFlow(pubLib, subLib, $"matrix/{pubLib}-to-{subLib}") { Groups = Groups, Frames = Frames, Size = Size, GroupInterval = interval };

        var (pub, sub) = await flow.RunAsync(edge.AnonUrl, output.WriteLine);

        var log = "\n" + edge.DescribeLog();
        InteropAssert.Sent(pub, Groups, log);
        InteropAssert.ReceivedAll(sub, Groups, Frames, Size, log);
        var (pubVersion, pubSubprotocol, pubEdgeName) = Defaults[pubLib];
        var (subVersion, subSubprotocol, subEdgeName) = Defaults[subLib];
        InteropAssert.Negotiated(pub, pubVersion, pubSubprotocol, log);
        InteropAssert.Negotiated(sub, subVersion, subSubprotocol, log);
        Assert.Contains(edge.LogLines, l => l.Contains(EdgeProcessFixture.SessionLine(pubEdgeName, pubSubprotocol), StringComparison.Ordinal));
        Assert.Contains(edge.LogLines, l => l.Contains(EdgeProcessFixture.SessionLine(subEdgeName, subSubprotocol), StringComparison.Ordinal));
    }
}
