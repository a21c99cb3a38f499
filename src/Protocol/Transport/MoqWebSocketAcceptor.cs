using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Accepts MoQ sessions from WebSocket upgrades in ASP.NET Core (spec §2.3): negotiates the subprotocol, completes
/// the upgrade with keep-alive pings and no compression, and builds a server-role QMux connection over it.
/// </summary>
/// <remarks>
/// No authentication happens here: the edge inspects <see cref="AcceptedConnection.Path"/> /
/// <see cref="AcceptedConnection.Jwt"/> (or the request directly) and answers 401/403 before calling
/// <see cref="AcceptAsync"/>. HTTP/1.1 upgrades (what browsers and the npm clients use) get our own framing,
/// <see cref="WebSocketServerChannel"/>; HTTP/2 WebSockets (extended CONNECT) go through ASP.NET Core's and need
/// <c>app.UseWebSockets()</c> in the pipeline, which does not interfere with the first. The request handler must stay
/// running until the session ends (e.g. <c>await accepted.Connection.Closed</c>, then dispose it): ASP.NET Core tears
/// the socket down when the handler returns.
/// </remarks>
public static class MoqWebSocketAcceptor
{
    /// <summary>The query parameter carrying the session token (spec §6.1).</summary>
    public const string JwtQueryParameter = "jwt";

    /// <summary>
    /// True for a WebSocket upgrade request (any path: the path is the session root), including an HTTP/1.1 attempt
    /// with a bad handshake, which <see cref="AcceptAsync"/> refuses with 400 or 426. Whether its subprotocols are
    /// acceptable is decided by <see cref="AcceptAsync"/>.
    /// </summary>
    public static bool IsMoqUpgrade(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return IsHttp1WebSocketAttempt(context) || context.WebSockets.IsWebSocketRequest;
    }

    /// <summary>
    /// Accepts the upgrade and builds the QMux connection (started, server role, transport name such as
    /// <c>websocket/qmux-00</c>). Returns null after answering HTTP 400 when the request
    /// is not a WebSocket upgrade or none of the offered subprotocols is acceptable.
    /// </summary>
    public static async Task<AcceptedConnection?> AcceptAsync(
        HttpContext context, MoqWebSocketOptions? options = null, CancellationToken cancellationToken = default)
    {
        var accepted = await AcceptChannelAsync(context, options, cancellationToken).ConfigureAwait(false);
        if (accepted is null)
        {
            return null;
        }

        var connection = WebSocketMoqConnection.Create(accepted.Channel, accepted.Selection, isServer: true, options?.QMux, options?.Logger);
        return new AcceptedConnection(connection, accepted.Path, accepted.Jwt, accepted.Selection.Subprotocol, accepted.Selection);
    }

    /// <summary>
    /// Accepts the upgrade at the record level only (see <see cref="AcceptedChannel"/>). Returns null after answering
    /// HTTP 400 when the request is not a WebSocket upgrade or no offered subprotocol is acceptable (426 when it asks
    /// for a WebSocket version other than 13).
    /// </summary>
    public static async Task<AcceptedChannel?> AcceptChannelAsync(
        HttpContext context, MoqWebSocketOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        options ??= MoqWebSocketOptions.Default;

        var http1 = IsHttp1WebSocketAttempt(context);
        if (http1 && WebSocketHandshake.Validate(context.Request) is { } refusal)
        {
            if (refusal.StatusCode == StatusCodes.Status426UpgradeRequired && !context.Response.HasStarted)
            {
                context.Response.Headers.SecWebSocketVersion = WebSocketHandshake.SupportedVersion;
            }

            await RefuseAsync(context, refusal.StatusCode, refusal.Reason, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (!http1 && !context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, "not a WebSocket upgrade", cancellationToken).ConfigureAwait(false);
            return null;
        }

        var selection = options.Selector.Select(context.WebSockets.WebSocketRequestedProtocols);
        if (!selection.Accepted)
        {
            await RefuseAsync(context, selection.Reason ?? "unsupported subprotocol", cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (http1)
        {
            // Our own framing: records are composed straight into the send buffer and flushed once per batch.
            var own = await WebSocketServerChannel.AcceptAsync(context, selection.Subprotocol, options).ConfigureAwait(false);
            return new AcceptedChannel(own, SessionPath(context.Request), Jwt(context.Request), selection);
        }

        // HTTP/2 extended CONNECT: ASP.NET Core's WebSocket, which handles the stream-level details.
        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = selection.Subprotocol,
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout,
            // permessage-deflate would only burn CPU on already-compressed media, and the JS polyfills don't ask for it.
            DangerousEnableCompression = false,
        }).ConfigureAwait(false);

        var channel = new WebSocketRecordChannel(socket, options.QMux.MaxIncomingRecordSize);
        return new AcceptedChannel(channel, SessionPath(context.Request), Jwt(context.Request), selection);
    }

    /// <summary>The session root: the request path, <c>/</c> when empty. The path base of a mounted app is included.</summary>
    public static string SessionPath(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.PathBase.Add(request.Path).Value;
        return string.IsNullOrEmpty(path) ? "/" : path;
    }

    /// <summary>The <c>jwt</c> query parameter; null when absent or empty (an empty token counts as absent).</summary>
    public static string? Jwt(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var value = request.Query[JwtQueryParameter].FirstOrDefault();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>An HTTP/1.1 request that asks to upgrade to WebSocket (valid or not).</summary>
    private static bool IsHttp1WebSocketAttempt(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        && WebSocketHandshake.IsUpgradeAttempt(context.Request);

    private static Task RefuseAsync(HttpContext context, string reason, CancellationToken cancellationToken) =>
        RefuseAsync(context, StatusCodes.Status400BadRequest, reason, cancellationToken);

    private static async Task RefuseAsync(HttpContext context, int statusCode, string reason, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(reason, cancellationToken).ConfigureAwait(false);
    }
}
