using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using MoqCluster.Edge.Auth;
using MoqCluster.Edge.Cluster;
using MoqCluster.Edge.Telemetry;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;
using SessionOptions = MoqCluster.Protocol.Session.SessionOptions;

namespace MoqCluster.Edge.Relay;

/// <summary>
/// The relay: a client's broadcasts enter the local origin under its session root and publish grants; the
/// broadcast grains route them (and those of other edges) into the serving origin, from which every client is
/// served within its subscribe grants.
/// </summary>
public sealed class RelayHost
{
    private readonly ILogger<RelayHost> _logger;
    private readonly ILoggerFactory _loggers;
    private readonly ConnectionAuthorizer _auth;
    private readonly EdgeOptions _options;
    private readonly EdgeMetrics _metrics;
    private long _nextSessionId;

    /// <summary>Creates the relay from configuration.</summary>
    /// <param name="options">Relay settings.</param>
    /// <param name="configuration">Used for <c>Auth:*</c> when no <paramref name="auth"/> is given.</param>
    /// <param name="loggers">Logging.</param>
    /// <param name="metrics">Session metrics.</param>
    /// <param name="auth">Connection authorization (registered by <c>AddEdgeAuth</c>); built from <paramref name="configuration"/> when null.</param>
    public RelayHost(IOptions<EdgeOptions> options, IConfiguration configuration, ILoggerFactory loggers, EdgeMetrics metrics, ConnectionAuthorizer? auth = null)
    {
        _options = options.Value;
        _metrics = metrics;
        _metrics.Observe(() => Origin.Count, () => Sessions.Count);
        _loggers = loggers;
        _logger = loggers.CreateLogger<RelayHost>();
        _auth = auth ?? ConnectionAuthorizer.FromConfiguration(configuration, loggers);
        OriginId = _options.OriginId != 0 ? _options.OriginId : SessionOptions.NewOriginId();
        if (configuration["Cluster:Secret"] is { Length: > 0 } secret)
            ClusterCredential = new ClusterCredential(secret);
    }

    /// <summary>
    /// The broadcasts local subscribers are served from: one per path, published by its broadcast grain,
    /// whichever edge the publisher is on.
    /// </summary>
    public Origin Origin { get; } = new();

    /// <summary>Broadcasts published by clients connected to this edge; grains route them, links serve them to other edges.</summary>
    public Origin LocalOrigin { get; } = new();

    /// <summary>The edge-to-edge credential, when <c>--Cluster:Secret</c> is set.</summary>
    public ClusterCredential? ClusterCredential { get; }

    /// <summary>This relay's hop id.</summary>
    public ulong OriginId { get; }

    /// <summary>The sessions being served (for draining on shutdown).</summary>
    public LiveSessions Sessions { get; } = new();

    /// <summary>Authorises a connection path and optional token (spec §6): a grant, or a refusal with HTTP 401/403.</summary>
    public async ValueTask<AccessDecision> AuthorizeAsync(MoqPath path, string? jwt)
    {
        // Another edge of the cluster: served this edge's local publishers, nothing accepted from it.
        if (ClusterCredential is not null && await ClusterCredential.VerifyAsync(jwt))
            return AccessDecision.Allow(new AccessGrant(path, [], [MoqPath.Empty]) { IsCluster = true });
        return await _auth.AuthorizeAsync(path, jwt);
    }

    /// <summary>Serves one WebSocket upgrade as a moq-lite session until it closes.</summary>
    public async Task HandleWebSocketAsync(HttpContext context)
    {
        if (Sessions.IsDraining)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            _metrics.SessionRefused("draining");
            return;
        }
        var path = MoqPath.Parse(context.Request.Path.Value);
        var decision = await AuthorizeAsync(path, context.Request.Query[MoqWebSocketAcceptor.JwtQueryParameter]);
        if (decision.Grant is not { } grant)
        {
            context.Response.StatusCode = decision.StatusCode; // logged and counted by the authorizer
            _metrics.SessionRefused(decision.StatusCode == StatusCodes.Status403Forbidden ? "forbidden" : "unauthorized");
            return;
        }
        var accepted = await MoqWebSocketAcceptor.AcceptAsync(context, cancellationToken: context.RequestAborted);
        if (accepted is null)
            return;
        await ServeAsync(accepted.Connection, grant, accepted.Subprotocol ?? "none");
    }

    /// <summary>
    /// Runs a session on an accepted connection until it closes. With a null <paramref name="grant"/> (URL-less
    /// transports: raw QUIC, QMux over TCP) the grant comes from the lite-05 SETUP path and its <c>?jwt=</c>;
    /// older versions carry no path and get the public access of root <c>/</c>.
    /// </summary>
    public async Task ServeAsync(IMoqConnection connection, AccessGrant? grant, string label)
    {
        var id = Interlocked.Increment(ref _nextSessionId);
        using var scope = _logger.BeginScope("session {SessionId}", id);
        using var activity = EdgeTracing.Source.StartActivity("moq.session", ActivityKind.Server);
        activity?.SetTag("moq.session.id", id);
        activity?.SetTag("moq.transport", connection.TransportName);
        var options = new SessionOptions
        {
            OriginId = OriginId,
            Logger = _loggers.CreateLogger<MoqSession>(),
            Observer = _metrics,
            AbruptEndLinger = _options.PublisherLinger,
            MaxSubscriptions = _options.MaxSubscriptionsPerSession,
            MaxAnnounceRequests = _options.MaxAnnounceRequestsPerSession,
        };
        if (grant is not null)
        {
            options.Publish = Serving(grant);
            options.Subscribe = Learning(grant);
            options.OnHandshake = handshake =>
            {
                ApplyRole(handshake, grant);
                return ValueTask.CompletedTask;
            };
        }
        else
        {
            options.OnHandshake = async handshake =>
            {
                grant = await AuthorizeSetupAsync(handshake);
                handshake.Publish = Serving(grant);
                handshake.Subscribe = Learning(grant);
                ApplyRole(handshake, grant);
            };
        }
        if (!Sessions.TryBeginHandshake())
        {
            _metrics.SessionRefused("draining");
            connection.Close((ulong)MoqErrorCode.Cancel, "relay shutting down");
            await connection.DisposeAsync();
            return;
        }
        MoqSession session;
        try
        {
            session = await MoqSession.AcceptAsync(connection, options);
        }
        catch (ProtocolException ex)
        {
            _metrics.SessionRefused(ex.Code == MoqErrorCode.Unauthorized ? "unauthorized" : "handshake");
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            await connection.DisposeAsync();
            return;
        }
        finally
        {
            Sessions.EndHandshake();
        }
        var root = grant!.Root;
        var version = session.Version;
        activity?.SetTag("moq.version", version.Name());
        activity?.SetTag("moq.root", "/" + root);
        await using (session)
        {
            if (!Sessions.TryAdd(session))
            {
                _metrics.SessionRefused("draining");
                session.Close(MoqErrorCode.Cancel, "relay shutting down");
                return;
            }
            _metrics.SessionOpened(version, connection.TransportName);
            _logger.LogInformation("session {Version} over {Transport} ({Label}) at /{Root} opened", version.Name(), connection.TransportName, label, root);
            try
            {
                using var expiry = GrantExpiry.Watch(grant!, () => session.Close(MoqErrorCode.Unauthorized, "token expired"));
                var closed = await session.Closed;
                activity?.SetTag("moq.close.code", closed.Code);
                activity?.SetTag("moq.close.by_peer", closed.ByPeer);
                _logger.LogInformation("session {Version} over {Transport} at /{Root} closed: code {Code} {Reason}{By}", version.Name(), connection.TransportName, root, closed.Code, closed.Reason, closed.ByPeer ? " (by peer)" : "");
            }
            finally
            {
                Sessions.Remove(session);
                _metrics.SessionClosed(version, connection.TransportName);
            }
        }
    }

    /// <summary>The grant of a URL-less session, from its lite-05 SETUP path and query; throws Unauthorized when refused.</summary>
    private async Task<AccessGrant> AuthorizeSetupAsync(SessionHandshake handshake)
    {
        var setup = handshake.SetupPath ?? "";
        var query = setup.IndexOf('?', StringComparison.Ordinal);
        var path = MoqPath.Parse(query < 0 ? setup : setup[..query]);
        string? jwt = null;
        if (query >= 0 && QueryHelpers.ParseQuery(setup[query..]).TryGetValue(MoqWebSocketAcceptor.JwtQueryParameter, out var values))
            jwt = values.ToString();
        var decision = await AuthorizeAsync(path, jwt);
        return decision.Grant ?? throw new ProtocolException(MoqErrorCode.Unauthorized,
            decision.StatusCode == StatusCodes.Status403Forbidden ? "nothing granted at this path" : "unauthorized");
    }

    /// <summary>
    /// The lite-05 SETUP Role hint: a publisher needs a publish grant and a subscriber a subscribe grant (else the
    /// session is refused as Unauthorized, as moq-relay answers 403); a one-directional client gets only that half.
    /// </summary>
    private static void ApplyRole(SessionHandshake handshake, AccessGrant grant)
    {
        switch (handshake.Role)
        {
            case SetupRole.Publisher:
                if (grant.Publish.Count == 0)
                    throw new ProtocolException(MoqErrorCode.Unauthorized, "publisher role without a publish grant");
                handshake.Publish = null;
                break;
            case SetupRole.Subscriber:
                if (grant.Subscribe.Count == 0)
                    throw new ProtocolException(MoqErrorCode.Unauthorized, "subscriber role without a subscribe grant");
                handshake.Subscribe = null;
                break;
        }
    }

    /// <summary>What a session with <paramref name="grant"/> is served from the origin table.</summary>
    private OriginConsumer? Serving(AccessGrant grant)
        => grant.Subscribe.Count == 0 ? null : (grant.IsCluster ? LocalOrigin : Origin).Consumer(grant.Root, grant.Subscribe);

    /// <summary>Where a session with <paramref name="grant"/> publishes what it announces.</summary>
    private OriginProducer? Learning(AccessGrant grant) => grant.Publish.Count > 0 ? LocalOrigin.Producer(grant.Root, grant.Publish) : null;
}
