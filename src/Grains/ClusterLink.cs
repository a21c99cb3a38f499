using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;

namespace MoqCluster.Grains;

/// <summary>
/// One edge-to-edge session to another edge, shared by every broadcast routed through that edge. It is an
/// ordinary moq-lite client session authenticated with the cluster credential; it is dialled on demand and
/// redialled with jittered exponential backoff after a failure.
/// </summary>
public sealed class ClusterLink : IAsyncDisposable
{
    private readonly SemaphoreSlim _dial = new(1, 1);
    private readonly string? _token;
    private readonly ILogger _logger;
    private readonly ISessionObserver? _observer;
    private MoqClient? _client;
    private LinkObserver _session = new(null);
    private long _retryAt;
    private int _failures;

    internal ClusterLink(string nodeId, Uri url, string? token, ILogger logger, ISessionObserver? observer)
    {
        NodeId = nodeId;
        Url = url;
        _token = token;
        _logger = logger;
        _observer = observer;
    }

    /// <summary>The remote edge.</summary>
    public string NodeId { get; }

    /// <summary>Where the remote edge accepts cluster sessions.</summary>
    public Uri Url { get; }

    /// <summary>True while a session is up.</summary>
    public bool IsConnected => _client is { Closed.IsCompleted: false };

    /// <summary>Completes when the current session closes (at once when there is none).</summary>
    public Task SessionClosed => _client?.Closed ?? Task.CompletedTask;

    /// <summary>Live upstream subscriptions over the current session (0 while down).</summary>
    public int UpstreamSubscriptions => IsConnected ? _session.Upstream : 0;

    /// <summary>A snapshot for status reports.</summary>
    public ClusterLinkStatus Status => new(NodeId, Url.ToString(), IsConnected, UpstreamSubscriptions);

    /// <summary>Consumes a broadcast (absolute path) from the remote edge; dials first when needed.</summary>
    /// <exception cref="IOException">The link is down and could not be (re)dialled now; retry later.</exception>
    public async ValueTask<BroadcastConsumer> ConsumeAsync(MoqPath path, CancellationToken cancellationToken)
    {
        var client = await ConnectedAsync(cancellationToken).ConfigureAwait(false);
        return client.Consume(path.Value);
    }

    private async ValueTask<MoqClient> ConnectedAsync(CancellationToken ct)
    {
        if (_client is { Closed.IsCompleted: false } live)
            return live;
        await _dial.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_client is { Closed.IsCompleted: false } again)
                return again;
            if (_client is not null)
            {
                await _client.DisposeAsync().ConfigureAwait(false);
                _client = null;
            }
            if (Environment.TickCount64 < _retryAt)
                throw new IOException($"cluster link to {NodeId} is backing off");
            try
            {
                var session = new LinkObserver(_observer);
                _client = await MoqClient.ConnectAsync(Url, new MoqClientOptions { Token = _token, VerifyCertificate = false, Observer = session }, ct).ConfigureAwait(false);
                _session = session;
                _failures = 0;
                _logger.LogInformation("cluster link to {Node} at {Url} up ({Version})", NodeId, Url, _client.Version.Name());
                return _client;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Jittered exponential backoff: 100 ms doubling to 5 s, ±50 %.
                var delay = Math.Min(5000, 100 << Math.Min(_failures++, 6)) * (0.5 + Random.Shared.NextDouble());
                _retryAt = Environment.TickCount64 + (long)delay;
                _logger.LogWarning("cluster link to {Node} at {Url} failed: {Reason}; retry in {Delay} ms", NodeId, Url, ex.Message, (long)delay);
                throw new IOException($"cluster link to {NodeId} failed: {ex.Message}", ex);
            }
        }
        finally
        {
            _dial.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync().ConfigureAwait(false);
    }
}
