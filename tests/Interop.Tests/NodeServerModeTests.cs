using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>server.mjs options that C# client tests will rely on: source mode, subprotocol selection, version pinning.</summary>
public sealed class NodeServerModeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("net")]
    [InlineData("lite")]
    public async Task SourceModeServesVerifiableFrames(string subLib)
    {
        await using var server = await NodeServer.StartAsync(
            "source",
            ["--broadcast", "live/src", "--track", "data", "--groups", "4", "--frames", "3", "--size", "256"],
            output.WriteLine);

        var result = await NodeInterop.RunAsync(
            "sub.mjs",
            [server.UrlFor("live"), "src", "data", "--lib", subLib, "--expect-groups", "4", "--timeout", "45"],
            HardTimeout,
            output.WriteLine);

        Assert.True(result.Ok, result.Describe());
        Assert.Equal(12, result.SummaryInt("frames"));
        Assert.Equal(4, result.SummaryInt("groups_complete"));
        await server.WaitForEventAsync("source_done", null, HardTimeout);
    }

    [Fact]
    public async Task SelectListPinsTheNegotiatedVersion()
    {
        await using var server = await NodeServer.StartAsync("source", ["--select", "qmux-00.moq-lite-04", "--groups", "1"], output.WriteLine);

        var net = await NodeInterop.RunAsync(
            "sub.mjs",
            [server.Url, "source", "data", "--lib", "net", "--expect-groups", "1", "--timeout", "30"],
            HardTimeout,
            output.WriteLine);
        // @moq/lite 0.2.2 offers only qmux-00 and webtransport: the server refuses the upgrade.
        var lite = await NodeInterop.RunAsync(
            "sub.mjs",
            [server.Url, "source", "data", "--lib", "lite", "--expect-groups", "1", "--timeout", "10", "--connect-timeout", "5"],
            HardTimeout,
            output.WriteLine);

        Assert.True(net.Ok, net.Describe());
        Assert.Equal("moq-lite-04", net.SummaryString("version"));
        Assert.Equal("qmux-00.moq-lite-04", net.SummaryString("subprotocol"));
        Assert.False(lite.Ok);
        Assert.Contains(lite.SummaryErrors, e => e.StartsWith("connect", StringComparison.Ordinal));
        Assert.Contains(server.Events, e => JsonLines.EventName(e) == "upgrade" && e.GetProperty("selected").ValueKind == System.Text.Json.JsonValueKind.Null);
    }

    [Theory]
    [InlineData("net", "qmux-00.moq-lite-03", "moq-lite-03")]
    [InlineData("net", "qmux-00.moq-lite-05", "moq-lite-05")]
    [InlineData("lite", "webtransport", "moq-lite-02")]
    public async Task ClientSubprotocolOverrideIsHonoured(string lib, string subprotocol, string version)
    {
        await using var server = await NodeServer.StartAsync("source", ["--groups", "2"], output.WriteLine);

        var result = await NodeInterop.RunAsync(
            "sub.mjs",
            [server.Url, "source", "data", "--lib", lib, "--subprotocols", subprotocol, "--expect-groups", "2", "--timeout", "30"],
            HardTimeout,
            output.WriteLine);

        Assert.True(result.Ok, result.Describe());
        Assert.Equal(version, result.SummaryString("version"));
        Assert.Equal(subprotocol, result.SummaryString("subprotocol"));
    }
}
