using System.Net.Http.Json;
using MoqCluster.Protocol.Client;

namespace MoqCluster.Bench.Load;

/// <summary>
/// Our relay through the project's own client library: broadcast <c>b{i}</c> with one track <c>t</c>
/// under the relay URL (<c>http://127.0.0.1:PORT/anon</c> for WebSocket + QMux, <c>tcp://127.0.0.1:PORT/anon</c>
/// for QMux over TCP). Publishers use <paramref name="url"/>, subscribers <paramref name="subscribeUrl"/>: the
/// same edge, or another edge of a cluster for the cross-edge workload. Publishing counts as done once every
/// <c>/health</c> endpoint in <paramref name="health"/> lists the broadcasts (both edges of a cluster, so the
/// subscribers' edge has learnt them from the directory).
/// </summary>
internal sealed class MoqTarget(string name, Uri url, Uri subscribeUrl, IReadOnlyList<Uri> health, RunErrors errors) : ILoadTarget
{
    /// <summary>The track every broadcast carries.</summary>
    public const string TrackName = "t";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <inheritdoc/>
    public string Name => name;

    private static MoqClientOptions Options => new() { ConnectTimeout = TimeSpan.FromSeconds(30) };

    // A subscriber reads each group once, as it arrives: keeping 5 s of every subscription's payloads (the library's
    // default, for late local readers) would make the generator hold and collect hundreds of MB that a NATS
    // subscriber never holds, and its collections would show up as relay latency. Two 30-frame 1 KB groups fit.
    private static MoqClientOptions SubscriberOptions => Options with { SubscribedTrackCacheBytes = 64 * 1024 };

    /// <summary>The path of broadcast number <paramref name="broadcast"/>.</summary>
    public static string PathOf(int broadcast) => $"b{broadcast}";

    /// <inheritdoc/>
    public async Task<IFramePublisher> ConnectPublisherAsync(int broadcast, CancellationToken cancellationToken)
    {
        var client = await MoqClient.ConnectAsync(url, Options, cancellationToken).ConfigureAwait(false);
        return new MoqFramePublisher(client, PathOf(broadcast), errors);
    }

    /// <summary>
    /// The <c>/health</c> endpoint of the edge behind a WebSocket URL (same host and port); null for a URL whose
    /// scheme has no HTTP side (<c>tcp://</c>: pass <c>--health</c>).
    /// </summary>
    public static Uri? HealthOf(Uri relay) => relay.Scheme switch
    {
        "http" or "ws" => new UriBuilder("http", relay.Host, relay.Port, "/health").Uri,
        "https" or "wss" => new UriBuilder("https", relay.Host, relay.Port, "/health").Uri,
        _ => null,
    };

    /// <inheritdoc/>
    public async Task WaitPublishedAsync(int broadcasts, CancellationToken cancellationToken)
    {
        foreach (var endpoint in health)
        {
            while (!await KnowsAsync(endpoint, broadcasts, cancellationToken).ConfigureAwait(false))
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> KnowsAsync(Uri endpoint, int broadcasts, CancellationToken cancellationToken)
    {
        try
        {
            var status = await Http.GetFromJsonAsync<HealthStatus>(endpoint, cancellationToken).ConfigureAwait(false);
            return status is not null && status.Broadcasts >= broadcasts;
        }
        catch (HttpRequestException)
        {
            return false; // the relay may still be starting; poll again
        }
    }

    /// <inheritdoc/>
    public async Task<IAsyncDisposable> ConnectSubscriberAsync(IReadOnlyList<(int Broadcast, SubscriptionStats Stats)> subscriptions, CancellationToken cancellationToken)
    {
        var client = await MoqClient.ConnectAsync(subscribeUrl, SubscriberOptions, cancellationToken).ConfigureAwait(false);
        return new MoqSubscriberSession(client, subscriptions, errors);
    }

    private sealed record HealthStatus(string Status, int Broadcasts);
}
