using System.Net.Http.Json;
using MoqCluster.Protocol.Client;

namespace MoqCluster.Bench.Load;

/// <summary>
/// Our relay through the project's own client library: broadcast <c>b{i}</c> with one track <c>t</c>
/// under the relay URL (normally <c>http://127.0.0.1:PORT/anon</c>, WebSocket + QMux). Publishers use
/// <paramref name="url"/>, subscribers <paramref name="subscribeUrl"/>: the same edge, or another edge of
/// a cluster for the cross-edge workload.
/// </summary>
internal sealed class MoqTarget(Uri url, Uri subscribeUrl, RunErrors errors) : ILoadTarget
{
    /// <summary>The track every broadcast carries.</summary>
    public const string TrackName = "t";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <inheritdoc/>
    public string Name => "moq";

    private static MoqClientOptions Options => new() { ConnectTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>The path of broadcast number <paramref name="broadcast"/>.</summary>
    public static string PathOf(int broadcast) => $"b{broadcast}";

    /// <inheritdoc/>
    public async Task<IFramePublisher> ConnectPublisherAsync(int broadcast, CancellationToken cancellationToken)
    {
        var client = await MoqClient.ConnectAsync(url, Options, cancellationToken).ConfigureAwait(false);
        return new MoqFramePublisher(client, PathOf(broadcast));
    }

    /// <inheritdoc/>
    public async Task WaitPublishedAsync(int broadcasts, CancellationToken cancellationToken)
    {
        var health = new UriBuilder(url.Scheme is "wss" or "https" ? "https" : "http", url.Host, url.Port, "/health").Uri;
        while (true)
        {
            try
            {
                var status = await Http.GetFromJsonAsync<HealthStatus>(health, cancellationToken).ConfigureAwait(false);
                if (status is not null && status.Broadcasts >= broadcasts)
                    return;
            }
            catch (HttpRequestException)
            {
                // the relay may still be starting; poll again
            }
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async Task<IAsyncDisposable> ConnectSubscriberAsync(IReadOnlyList<(int Broadcast, SubscriptionStats Stats)> subscriptions, CancellationToken cancellationToken)
    {
        var client = await MoqClient.ConnectAsync(subscribeUrl, Options, cancellationToken).ConfigureAwait(false);
        return new MoqSubscriberSession(client, subscriptions, errors);
    }

    private sealed record HealthStatus(string Status, int Broadcasts);
}
