namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Connects to a MoQ relay over WebSocket the way the JS polyfills do (spec §2.3): the WebTransport URL with its
/// scheme swapped (<c>http→ws</c>, <c>https→wss</c>), path and query (<c>?jwt=</c>) kept verbatim.
/// </summary>
public static class MoqWebSocketClient
{
    /// <summary>
    /// Opens the WebSocket, reads the server's subprotocol choice and returns a client-role QMux connection.
    /// A server that selects nothing means legacy <c>webtransport</c> framing with legacy SETUP, as in <c>@moq/qmux</c>.
    /// </summary>
    /// <param name="uri">An <c>http</c>, <c>https</c>, <c>ws</c> or <c>wss</c> URL; its path is the session root.</param>
    /// <param name="options">Offer, TLS and timeout settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <exception cref="WebSocketConnectException">The upgrade was refused, timed out or the network failed.</exception>
    public static async Task<IMoqConnection> ConnectAsync(
        Uri uri, MoqWebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (channel, selection) = await ConnectChannelAsync(uri, options, cancellationToken).ConfigureAwait(false);
        return WebSocketMoqConnection.Create(channel, selection, isServer: false, options?.QMux, options?.Logger);
    }

    /// <summary>
    /// Connects at the record level only: the channel and the negotiation result, without building a QMux connection.
    /// </summary>
    /// <exception cref="WebSocketConnectException">The upgrade was refused, timed out or the network failed.</exception>
    public static async Task<(WebSocketClientChannel Channel, SubprotocolSelection Selection)> ConnectChannelAsync(
        Uri uri, MoqWebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= MoqWebSocketClientOptions.Default;
        foreach (var subprotocol in options.Subprotocols)
        {
            if (!WebSocketSubprotocol.TryParse(subprotocol, out _))
            {
                throw new ArgumentException($"'{subprotocol}' is not a MoQ WebSocket subprotocol", nameof(options));
            }
        }

        var channel = await WebSocketClientChannel.ConnectAsync(ToWebSocketUri(uri), options, cancellationToken).ConfigureAwait(false);
        return (channel, FromServerChoice(channel.SubProtocol));
    }

    /// <summary>Maps <c>http→ws</c> and <c>https→wss</c>, keeping host, port, path and query; drops the fragment.</summary>
    public static Uri ToWebSocketUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException("an absolute URL is required", nameof(uri));
        }

        var scheme = uri.Scheme switch
        {
            "http" or "ws" => "ws",
            "https" or "wss" => "wss",
            _ => throw new ArgumentException($"unsupported scheme '{uri.Scheme}' (http, https, ws or wss)", nameof(uri)),
        };
        // UriBuilder keeps the already-escaped path and query untouched, so a token passes through verbatim.
        var builder = new UriBuilder(uri) { Scheme = scheme, Fragment = "" };
        if (uri.IsDefaultPort)
        {
            builder.Port = -1;
        }

        return builder.Uri;
    }

    /// <summary>Interprets the server's <c>Sec-WebSocket-Protocol</c> answer; none means legacy framing and SETUP.</summary>
    internal static SubprotocolSelection FromServerChoice(string? subprotocol)
    {
        if (WebSocketSubprotocol.TryParse(subprotocol, out var parsed))
        {
            return new SubprotocolSelection(true, subprotocol, parsed.Value.WireFormat, parsed.Value.ApplicationProtocol);
        }

        // The handshake already refused a value we did not offer, so this is the "nothing selected" case.
        return new SubprotocolSelection(true, null, QMuxWireFormat.Legacy, null);
    }
}
