using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using MoqCluster.Edge.Auth;
using MoqCluster.Edge.Telemetry;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;
using SessionOptions = MoqCluster.Protocol.Session.SessionOptions;

namespace MoqCluster.Edge.Relay;

/// <summary>
/// The single-node relay: one origin table shared by every session. A client's broadcasts enter the table
/// under its session root and publish grants; it is served from the table within its subscribe grants.
/// </summary>
public sealed class RelayHost
{
    private readonly ILogger<RelayHost> _logger;
    private readonly ILoggerFactory _loggers;
    private readonly PublicAccess _public;
    private readonly EdgeOptions _options;
    private readonly EdgeMetrics _metrics;
    private long _nextSessionId;

    /// <summary>Creates the relay from configuration.</summary>
    public RelayHost(IOptions<EdgeOptions> options, IConfiguration configuration, ILoggerFactory loggers, EdgeMetrics metrics)
    {
        _options = options.Value;
        _metrics = metrics;
        _metrics.Observe(() => Origin.Count, () => Sessions.Count);
        _loggers = loggers;
        _logger = loggers.CreateLogger<RelayHost>();
        var configured = configuration["Auth:Public"];
        _public = PublicAccess.Parse(configured ?? (configuration["Auth:Key"] is null ? "anon" : ""));
        OriginId = _options.OriginId != 0 ? _options.OriginId : SessionOptions.NewOriginId();
    }

    /// <summary>The table of live broadcasts.</summary>
    public Origin Origin { get; } = new();

    /// <summary>This relay's hop id.</summary>
    public ulong OriginId { get; }

    /// <summary>The sessions being served (for draining on shutdown).</summary>
    public LiveSessions Sessions { get; } = new();

    /// <summary>Authorises a connection path and optional token; null = 401.</summary>
    public AccessGrant? Authorize(MoqPath path, string? jwt)
    {
        if (!string.IsNullOrEmpty(jwt))
            return null; // token verification arrives with the Auth:Key support
        return _public.Grant(path);
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
        var grant = Authorize(path, context.Request.Query[MoqWebSocketAcceptor.JwtQueryParameter]);
        if (grant is null || grant.IsEmpty)
        {
            context.Response.StatusCode = grant is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
            _metrics.SessionRefused(grant is null ? "unauthorized" : "forbidden");
            _logger.LogInformation("refused session at /{Path}: HTTP {Status}", path, context.Response.StatusCode);
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
        }
        else
        {
            options.OnHandshake = handshake =>
            {
                grant = AuthorizeSetup(handshake);
                handshake.Publish = Serving(grant);
                handshake.Subscribe = Learning(grant);
                return ValueTask.CompletedTask;
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
    private AccessGrant AuthorizeSetup(SessionHandshake handshake)
    {
        var setup = handshake.SetupPath ?? "";
        var query = setup.IndexOf('?', StringComparison.Ordinal);
        var path = MoqPath.Parse(query < 0 ? setup : setup[..query]);
        string? jwt = null;
        if (query >= 0 && QueryHelpers.ParseQuery(setup[query..]).TryGetValue(MoqWebSocketAcceptor.JwtQueryParameter, out var values))
            jwt = values.ToString();
        var grant = Authorize(path, jwt);
        if (grant is null || grant.IsEmpty)
        {
            _logger.LogInformation("refused {Version} session at /{Path}: {Reason}", handshake.Version.Name(), path, grant is null ? "unauthorized" : "nothing granted");
            throw new ProtocolException(MoqErrorCode.Unauthorized, grant is null ? "unauthorized" : "nothing granted at this path");
        }
        return grant;
    }

    /// <summary>What a session with <paramref name="grant"/> is served from the origin table.</summary>
    private OriginConsumer? Serving(AccessGrant grant) => grant.Subscribe.Count > 0 ? Origin.Consumer(grant.Root, grant.Subscribe) : null;

    /// <summary>Where a session with <paramref name="grant"/> publishes what it announces.</summary>
    private OriginProducer? Learning(AccessGrant grant) => grant.Publish.Count > 0 ? Origin.Producer(grant.Root, grant.Publish) : null;
}
