using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

public sealed class SubprotocolSelectorTests
{
    /// <summary>Exactly what <c>@moq/net</c> 0.3.4 sends (interop captures/22), 27 entries.</summary>
    public static readonly string[] MoqNet034 =
    [
        "qmux-02.moq-lite-05", "qmux-01.moq-lite-05", "qmux-00.moq-lite-05",
        "qmux-02.moq-lite-04", "qmux-01.moq-lite-04", "qmux-00.moq-lite-04",
        "qmux-02.moq-lite-03", "qmux-01.moq-lite-03", "qmux-00.moq-lite-03",
        "qmux-02.moql", "qmux-01.moql", "qmux-00.moql",
        "qmux-01.moqt-20", "qmux-01.moqt-18",
        "qmux-02.moqt-17", "qmux-01.moqt-17", "qmux-00.moqt-17",
        "qmux-02.moqt-16", "qmux-01.moqt-16", "qmux-00.moqt-16",
        "qmux-02.moqt-15", "qmux-01.moqt-15", "qmux-00.moqt-15",
        "qmux-02", "qmux-01", "qmux-00", "webtransport",
    ];

    /// <summary><c>@moq/lite</c> 0.2.2: no application protocol at all.</summary>
    public static readonly string[] MoqLite022 = ["qmux-00", "webtransport"];

    /// <summary><c>@kixelated/moq</c> 0.9.4.</summary>
    public static readonly string[] Kixelated094 = ["webtransport"];

    [Fact]
    public void MoqNetOfferHas27Entries() => Assert.Equal(27, MoqNet034.Length);

    [Fact]
    public void MoqNetGetsQmux00Lite05ByDefault()
    {
        var selection = SubprotocolSelector.Default.Select(MoqNet034);
        Assert.True(selection.Accepted);
        Assert.Equal("qmux-00.moq-lite-05", selection.Subprotocol);
        Assert.Equal(QMuxWireFormat.Qmux00, selection.WireFormat);
        Assert.Equal("moq-lite-05", selection.ApplicationProtocol);
        Assert.Equal("websocket/qmux-00", selection.TransportName);
    }

    [Fact]
    public void MoqLiteGetsBareQmux00AndLegacySetup()
    {
        var selection = SubprotocolSelector.Default.Select(MoqLite022);
        Assert.True(selection.Accepted);
        Assert.Equal("qmux-00", selection.Subprotocol);
        Assert.Equal(QMuxWireFormat.Qmux00, selection.WireFormat);
        Assert.Null(selection.ApplicationProtocol);
    }

    [Fact]
    public void KixelatedGetsLegacyWebtransport()
    {
        var selection = SubprotocolSelector.Default.Select(Kixelated094);
        Assert.True(selection.Accepted);
        Assert.Equal("webtransport", selection.Subprotocol);
        Assert.Equal(QMuxWireFormat.Legacy, selection.WireFormat);
        Assert.Null(selection.ApplicationProtocol);
        Assert.Equal("websocket/webtransport", selection.TransportName);
    }

    [Fact]
    public void NoOfferIsLegacyFramingWithoutEcho()
    {
        var selection = SubprotocolSelector.Default.Select([]);
        Assert.True(selection.Accepted);
        Assert.Null(selection.Subprotocol);
        Assert.Equal(QMuxWireFormat.Legacy, selection.WireFormat);
        Assert.Null(selection.ApplicationProtocol);
    }

    [Theory]
    [InlineData("qmux-01.moqt-20", "qmux-01.moqt-18", "qmux-00.moqt-17")]
    [InlineData("moqt-17", "moq-00")]
    [InlineData("webtransport.moq-lite-04")]
    [InlineData("chat", "superchat")]
    [InlineData("qmux-03.moq-lite-05")]
    public void UnsupportedOffersAreRefused(params string[] offered)
    {
        var selection = SubprotocolSelector.Default.Select(offered);
        Assert.False(selection.Accepted);
        Assert.Null(selection.Subprotocol);
        Assert.NotNull(selection.Reason);
    }

    [Fact]
    public void WebtransportWithAlpnIsNeverSelectedEvenAlongsideBare()
    {
        var selection = SubprotocolSelector.Default.Select(["webtransport.moq-lite-05", "webtransport"]);
        Assert.Equal("webtransport", selection.Subprotocol);
        Assert.DoesNotContain(SubprotocolSelector.Default.Preference, p => p.StartsWith("webtransport.", StringComparison.Ordinal));
    }

    [Fact]
    public void IetfEntriesAreNeverInThePreference() =>
        Assert.DoesNotContain(SubprotocolSelector.Default.Preference, p => p.Contains("moqt", StringComparison.Ordinal) || p.Contains("moq-00", StringComparison.Ordinal));

    [Fact]
    public void DefaultPreferenceIsVersionMajorWithQmux00First()
    {
        Assert.Equal(
        [
            "qmux-00.moq-lite-05", "qmux-01.moq-lite-05", "qmux-02.moq-lite-05",
            "qmux-00.moq-lite-04", "qmux-01.moq-lite-04", "qmux-02.moq-lite-04",
            "qmux-00.moq-lite-03", "qmux-01.moq-lite-03", "qmux-02.moq-lite-03",
            "qmux-00.moql", "qmux-01.moql", "qmux-02.moql",
            "qmux-00", "qmux-01", "qmux-02", "webtransport",
        ], SubprotocolSelector.Default.Preference);
    }

    [Fact]
    public void ServerPreferenceWinsOverClientOrder()
    {
        // The client lists qmux-02 first; the server still prefers qmux-00 for the same version.
        var selection = SubprotocolSelector.Default.Select(["qmux-02.moq-lite-04", "qmux-00.moq-lite-04", "qmux-00.moq-lite-03"]);
        Assert.Equal("qmux-00.moq-lite-04", selection.Subprotocol);
    }

    [Fact]
    public void NewerVersionOnQmux01BeatsOlderOnQmux00()
    {
        var selection = SubprotocolSelector.Default.Select(["qmux-01.moq-lite-05", "qmux-00.moq-lite-04"]);
        Assert.Equal("qmux-01.moq-lite-05", selection.Subprotocol);
        Assert.Equal(QMuxWireFormat.Qmux01, selection.WireFormat);
    }

    [Fact]
    public void RestrictedToLite03And04()
    {
        var selector = SubprotocolSelector.For([MoqVersion.Lite03, MoqVersion.Lite04], SubprotocolSelector.DefaultWireFormats);
        Assert.Equal("qmux-00.moq-lite-04", selector.Select(MoqNet034).Subprotocol);
        // Without lite-01/02 there is nothing the legacy-SETUP clients can run.
        Assert.False(selector.Select(MoqLite022).Accepted);
        Assert.False(selector.Select(Kixelated094).Accepted);
        Assert.False(selector.Select([]).Accepted);
        Assert.False(selector.AcceptNoSubprotocol);
    }

    [Fact]
    public void RestrictedToLite03Only()
    {
        var selector = SubprotocolSelector.For([MoqVersion.Lite03], SubprotocolSelector.DefaultWireFormats);
        var selection = selector.Select(MoqNet034);
        Assert.Equal("qmux-00.moq-lite-03", selection.Subprotocol);
        Assert.Equal("moq-lite-03", selection.ApplicationProtocol);
    }

    [Fact]
    public void LegacySetupOnlyServer()
    {
        var selector = SubprotocolSelector.For([MoqVersion.Lite02], SubprotocolSelector.DefaultWireFormats);
        Assert.Equal("qmux-00.moql", selector.Select(MoqNet034).Subprotocol);
        Assert.Equal("qmux-00", selector.Select(MoqLite022).Subprotocol);
        Assert.Equal("webtransport", selector.Select(Kixelated094).Subprotocol);
    }

    [Fact]
    public void Qmux01OnlyServer()
    {
        var selector = SubprotocolSelector.For(MoqVersions.All, [QMuxWireFormat.Qmux01]);
        Assert.Equal("qmux-01.moq-lite-05", selector.Select(MoqNet034).Subprotocol);
        Assert.False(selector.Select(MoqLite022).Accepted);
        Assert.False(selector.Select([]).Accepted);
    }

    [Fact]
    public void LegacyFramingOnlyServer()
    {
        var selector = SubprotocolSelector.For(MoqVersions.All, [QMuxWireFormat.Legacy]);
        Assert.Equal(["webtransport"], selector.Preference);
        Assert.Equal("webtransport", selector.Select(MoqNet034).Subprotocol);
        Assert.True(selector.Select([]).Accepted);
    }

    [Fact]
    public void ExplicitPreferenceList()
    {
        var selector = new SubprotocolSelector(["qmux-01.moq-lite-04", "qmux-00"], acceptNoSubprotocol: false);
        Assert.Equal("qmux-01.moq-lite-04", selector.Select(MoqNet034).Subprotocol);
        Assert.Equal("qmux-00", selector.Select(MoqLite022).Subprotocol);
        Assert.False(selector.Select([]).Accepted);
        Assert.Throws<ArgumentException>(() => new SubprotocolSelector(["moqt-17"]));
        Assert.Throws<ArgumentException>(() => new SubprotocolSelector(["webtransport.moq-lite-04"]));
        Assert.Throws<ArgumentException>(() => new SubprotocolSelector(["qmux-01.moqt-17"]));
    }

    [Fact]
    public void OfferedTokensAreTrimmed()
    {
        var selection = SubprotocolSelector.Default.Select([" qmux-00.moq-lite-04 ", "", "  "]);
        Assert.Equal("qmux-00.moq-lite-04", selection.Subprotocol);
    }

    [Fact]
    public void OnlyWhitespaceCountsAsNoOffer() =>
        Assert.Null(SubprotocolSelector.Default.Select(["", " "]).Subprotocol);

    [Theory]
    [InlineData("webtransport", QMuxWireFormat.Legacy, null)]
    [InlineData("webtransport.moq-lite-04", QMuxWireFormat.Legacy, "moq-lite-04")]
    [InlineData("qmux-00", QMuxWireFormat.Qmux00, null)]
    [InlineData("qmux-00.moq-lite-05", QMuxWireFormat.Qmux00, "moq-lite-05")]
    [InlineData("qmux-01.moql", QMuxWireFormat.Qmux01, "moql")]
    [InlineData("qmux-02.moqt-17", QMuxWireFormat.Qmux02, "moqt-17")]
    public void ParsesAndFormats(string value, QMuxWireFormat format, string? alpn)
    {
        Assert.True(WebSocketSubprotocol.TryParse(value, out var parsed));
        Assert.Equal(format, parsed.Value.WireFormat);
        Assert.Equal(alpn, parsed.Value.ApplicationProtocol);
        Assert.Equal(value, parsed.Value.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("qmux-03")]
    [InlineData("qmux-00.")]
    [InlineData("WebTransport")]
    [InlineData("moq-lite-04")]
    public void RejectsInvalidTokens(string? value) => Assert.False(WebSocketSubprotocol.TryParse(value, out _));

    [Theory]
    [InlineData("qmux-00", true, null)]
    [InlineData("qmux-00.moql", true, null)]
    [InlineData("qmux-00.moq-lite-04", false, MoqVersion.Lite04)]
    [InlineData("qmux-01.moq-lite-05", false, MoqVersion.Lite05)]
    public void LegacySetupAndVersion(string value, bool legacy, MoqVersion? version)
    {
        WebSocketSubprotocol.TryParse(value, out var parsed);
        Assert.Equal(legacy, parsed!.Value.UsesLegacySetup);
        Assert.Equal(version, parsed.Value.Version);
    }

    [Fact]
    public void ClientDefaultOffer() =>
        Assert.Equal(
            ["qmux-00.moq-lite-05", "qmux-00.moq-lite-04", "qmux-00.moq-lite-03", "qmux-00.moql", "qmux-00", "webtransport"],
            MoqWebSocketClientOptions.DefaultSubprotocols);

    [Theory]
    [InlineData("http://relay.example/anon/room?jwt=a.b-c", "ws://relay.example/anon/room?jwt=a.b-c")]
    [InlineData("https://relay.example:4443/x?jwt=t#frag", "wss://relay.example:4443/x?jwt=t")]
    [InlineData("https://relay.example/", "wss://relay.example/")]
    [InlineData("ws://127.0.0.1:8080/a%20b", "ws://127.0.0.1:8080/a%20b")]
    public void MapsUrlSchemes(string input, string expected) =>
        Assert.Equal(expected, MoqWebSocketClient.ToWebSocketUri(new Uri(input)).AbsoluteUri);

    [Fact]
    public void RejectsOtherSchemes() =>
        Assert.Throws<ArgumentException>(() => MoqWebSocketClient.ToWebSocketUri(new Uri("ftp://relay.example/")));
}
