using System.Net;
using System.Net.Http.Json;
using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary><c>/announced/{prefix}</c> on a real edge with a C# publisher.</summary>
public sealed class AnnouncedEndpointTests(EdgeProcessFixture fixture) : IClassFixture<EdgeProcessFixture>
{
    private async Task<List<string>> AnnouncedAsync(HttpClient http, string prefix)
    {
        var list = await http.GetFromJsonAsync<List<string>>(new Uri(fixture.Edge.Http, "/announced/" + prefix));
        return list ?? [];
    }

    [Fact]
    public async Task Lists_a_published_broadcast_scoped_by_prefix()
    {
        using var http = new HttpClient();
        await using var publisher = await MoqClient.ConnectAsync(new Uri(fixture.Edge.Http, "/anon"));
        var broadcast = publisher.Publish("listed/room/a");
        await Poll.UntilAsync(async () => (await AnnouncedAsync(http, "anon")).Contains("anon/listed/room/a"), "the broadcast to be announced");

        Assert.Contains("anon/listed/room/a", await AnnouncedAsync(http, "anon/listed"));
        Assert.Contains("anon/listed/room/a", await AnnouncedAsync(http, "anon/listed/room/a"));
        Assert.Contains("anon/listed/room/a", await AnnouncedAsync(http, ""));
        Assert.DoesNotContain("anon/listed/room/a", await AnnouncedAsync(http, "anon/elsewhere"));
        Assert.DoesNotContain("anon/listed/room/a", await AnnouncedAsync(http, "anon/listed/room/ab"));

        // A deliberate finish unannounces.
        broadcast.Finish();
        await Poll.UntilAsync(async () => !(await AnnouncedAsync(http, "anon/listed")).Contains("anon/listed/room/a"), "the broadcast to be unannounced");
    }

    [Fact]
    public async Task Lists_a_broadcast_published_over_qmux_tcp()
    {
        using var http = new HttpClient();
        var options = new MoqClientOptions { Versions = [MoqVersion.Lite05] };
        await using var publisher = await MoqClient.ConnectAsync(new Uri($"tcp://127.0.0.1:{fixture.Edge.TcpPort}/anon"), options);
        publisher.Publish("tcp/room");
        await Poll.UntilAsync(async () => (await AnnouncedAsync(http, "anon/tcp")).Contains("anon/tcp/room"), "the TCP publisher's broadcast to be announced");
    }

    [Fact]
    public async Task Anonymous_callers_see_nothing_outside_public_prefixes_and_bad_tokens_are_refused()
    {
        using var http = new HttpClient();
        Assert.Empty(await AnnouncedAsync(http, "private"));
        using var response = await http.GetAsync(new Uri(fixture.Edge.Http, "/announced/anon?jwt=not-a-token"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
