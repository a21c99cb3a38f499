using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;
using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>SIGTERM on a real edge: GOAWAY to every session, a drain, then a clean close and exit.</summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Lite04_session_receives_goaway_before_a_clean_close()
    {
        await using var edge = new EdgeProcess(https: true, tcp: true);
        await edge.StartAsync("--Relay:DrainTimeout=00:00:01");
        var options = new MoqClientOptions { Versions = [MoqVersion.Lite04] };
        await using var client = await MoqClient.ConnectAsync(new Uri(edge.Http, "/anon"), options);
        Assert.Equal(MoqVersion.Lite04, client.Version);
        Assert.Null(client.Session.GoAwayUri);
        await edge.Process.WaitForLineAsync(l => l.Contains("at /anon opened", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        await edge.TerminateAsync();
        var closed = await client.Closed.WaitAsync(TimeSpan.FromSeconds(30));

        var goAwayAtClose = client.Session.GoAwayUri;
        Assert.True(goAwayAtClose is not null, "no GOAWAY before the close:\n" + string.Join('\n', edge.Process.StdoutLines));
        Assert.Equal(0UL, closed.Code);
        var exit = await edge.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.False(exit.TimedOut);
        Assert.Contains(exit.StdoutLines, l => l.Contains("draining 1 session(s)", StringComparison.Ordinal));
    }
}
