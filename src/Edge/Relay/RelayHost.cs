using Microsoft.Extensions.Options;
using MoqCluster.Edge.Auth;
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
    private readonly ConnectionAuthorizer _auth;
    private readonly EdgeOptions _options;

    /// <summary>Creates the relay from configuration.</summary>
    public RelayHost(IOptions<EdgeOptions> options, ConnectionAuthorizer auth, ILoggerFactory loggers)
    {
        _options = options.Value;
        _loggers = loggers;
        _logger = loggers.CreateLogger<RelayHost>();
        _auth = auth;
        OriginId = _options.OriginId != 0 ? _options.OriginId : SessionOptions.NewOriginId();
    }

    /// <summary>The table of live broadcasts.</summary>
    public Origin Origin { get; } = new();

    /// <summary>This relay's hop id.</summary>
    public ulong OriginId { get; }

    /// <summary>Authorises a connection path and optional token (spec §6): a grant, or a refusal with HTTP 401/403.</summary>
    public ValueTask<AccessDecision> AuthorizeAsync(MoqPath path, string? jwt) => _auth.AuthorizeAsync(path, jwt);

    /// <summary>Serves one WebSocket upgrade as a moq-lite session until it closes.</summary>
    public async Task HandleWebSocketAsync(HttpContext context)
    {
        var path = MoqPath.Parse(context.Request.Path.Value);
        var decision = await AuthorizeAsync(path, context.Request.Query[MoqWebSocketAcceptor.JwtQueryParameter]);
        if (decision.Grant is not { } grant)
        {
            context.Response.StatusCode = decision.StatusCode; // logged and counted by the authorizer
            return;
        }
        var accepted = await MoqWebSocketAcceptor.AcceptAsync(context, cancellationToken: context.RequestAborted);
        if (accepted is null)
            return;
        await ServeAsync(accepted.Connection, grant, accepted.Subprotocol ?? "none");
    }

    /// <summary>Runs a session on an accepted connection with the given grant.</summary>
    public async Task ServeAsync(IMoqConnection connection, AccessGrant grant, string label)
    {
        var options = new SessionOptions
        {
            OriginId = OriginId,
            Publish = grant.Subscribe.Count > 0 ? Origin.Consumer(grant.Root, grant.Subscribe) : null,
            Subscribe = grant.Publish.Count > 0 ? Origin.Producer(grant.Root, grant.Publish) : null,
            Logger = _loggers.CreateLogger<MoqSession>(),
        };
        MoqSession session;
        try
        {
            session = await MoqSession.AcceptAsync(connection, options);
        }
        catch (ProtocolException)
        {
            await connection.DisposeAsync();
            return;
        }
        _logger.LogInformation("session {Version} over {Transport} ({Label}) at /{Root}", session.Version.Name(), connection.TransportName, label, grant.Root);
        await using (session)
        {
            using var expiry = GrantExpiry.Watch(grant, () => session.Close(MoqErrorCode.Unauthorized, "token expired"));
            var closed = await session.Closed;
            _logger.LogInformation("session at /{Root} closed: code {Code} {Reason}", grant.Root, closed.Code, closed.Reason);
        }
    }
}
