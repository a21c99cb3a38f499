using System.Net.WebSockets;

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
    public static async Task<(WebSocketRecordChannel Channel, SubprotocolSelection Selection)> ConnectChannelAsync(
        Uri uri, MoqWebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= MoqWebSocketClientOptions.Default;
        var target = ToWebSocketUri(uri);

        var socket = new ClientWebSocket();
        try
        {
            Configure(socket.Options, options);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(target, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new WebSocketConnectException($"websocket connect to {target} timed out after {options.ConnectTimeout}", null, e);
            }
            catch (WebSocketException e)
            {
                int? status = socket.HttpStatusCode == 0 ? null : (int)socket.HttpStatusCode;
                throw new WebSocketConnectException($"websocket connect to {target} failed: {e.Message}", status, e);
            }

            var selection = FromServerChoice(socket.SubProtocol);
            return (new WebSocketRecordChannel(socket, options.QMux.MaxIncomingRecordSize), selection);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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

        // ClientWebSocket already refuses a value we did not offer, so this is the "nothing selected" case.
        return new SubprotocolSelection(true, null, QMuxWireFormat.Legacy, null);
    }

    private static void Configure(ClientWebSocketOptions socketOptions, MoqWebSocketClientOptions options)
    {
        foreach (var subprotocol in options.Subprotocols)
        {
            if (!WebSocketSubprotocol.TryParse(subprotocol, out _))
            {
                throw new ArgumentException($"'{subprotocol}' is not a MoQ WebSocket subprotocol", nameof(options));
            }

            socketOptions.AddSubProtocol(subprotocol);
        }

        foreach (var (name, value) in options.Headers)
        {
            socketOptions.SetRequestHeader(name, value);
        }

        if (options.CertificateValidation is not null)
        {
            socketOptions.RemoteCertificateValidationCallback = options.CertificateValidation;
        }
        else if (!options.VerifyCertificate)
        {
            socketOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }

        socketOptions.KeepAliveInterval = options.KeepAliveInterval;
        // Keeps the HTTP status of a refused upgrade so callers can tell 400 from 401/403.
        socketOptions.CollectHttpResponseDetails = true;
        // No permessage-deflate: media is already compressed and the JS servers/clients never negotiate it.
        socketOptions.DangerousDeflateOptions = null;
    }
}
