using System.Net;
using System.Text;
using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary><c>/fetch/{broadcast}/{track}</c> on a real edge with a C# publisher.</summary>
public sealed class FetchEndpointTests(EdgeProcessFixture fixture) : IClassFixture<EdgeProcessFixture>
{
    private static void WriteGroup(TrackProducer track, params string[] frames)
    {
        var group = track.AppendGroup();
        foreach (var frame in frames)
            group.WriteFrame(Encoding.UTF8.GetBytes(frame));
        group.Finish();
    }

    private async Task<MoqClient> PublishAsync(string path, Action<TrackProducer> write)
    {
        var publisher = await MoqClient.ConnectAsync(new Uri(fixture.Edge.Http, "/anon"));
        var broadcast = publisher.Publish(path);
        write(broadcast.CreateTrack("video", new TrackInfo(0, false, TimeSpan.FromSeconds(30), 1000)));
        using var http = new HttpClient();
        await Poll.UntilAsync(async () => (await http.GetStringAsync(new Uri(fixture.Edge.Http, "/announced/anon/" + path))).Contains(path, StringComparison.Ordinal), "the broadcast to be announced");
        return publisher;
    }

    [Fact]
    public async Task Returns_the_frames_of_the_latest_group()
    {
        await using var publisher = await PublishAsync("fetch/latest", track =>
        {
            WriteGroup(track, "old-", "group");
            WriteGroup(track, "hello ", "world");
        });
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(fixture.Edge.Http, "/fetch/anon/fetch/latest/video"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("hello world", Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal("1", Assert.Single(response.Headers.GetValues("Moq-Group")));
    }

    [Fact]
    public async Task Returns_a_named_group()
    {
        await using var publisher = await PublishAsync("fetch/named", track =>
        {
            WriteGroup(track, "zero");
            WriteGroup(track, "one");
            WriteGroup(track, "two");
        });
        using var http = new HttpClient();
        var body = await http.GetByteArrayAsync(new Uri(fixture.Edge.Http, "/fetch/anon/fetch/named/video?group=2"));
        Assert.Equal("two", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task Unknown_broadcast_or_track_is_404()
    {
        await using var publisher = await PublishAsync("fetch/known", track => WriteGroup(track, "x"));
        using var http = new HttpClient();
        using var noBroadcast = await http.GetAsync(new Uri(fixture.Edge.Http, "/fetch/anon/fetch/unknown/video"));
        Assert.Equal(HttpStatusCode.NotFound, noBroadcast.StatusCode);
        using var noTrack = await http.GetAsync(new Uri(fixture.Edge.Http, "/fetch/anon/fetch/known/audio"));
        Assert.Equal(HttpStatusCode.NotFound, noTrack.StatusCode);
        using var noPath = await http.GetAsync(new Uri(fixture.Edge.Http, "/fetch/video"));
        Assert.Equal(HttpStatusCode.NotFound, noPath.StatusCode);
    }
}
