using System.Net;
using System.Net.Quic;
using System.Net.Security;
using System.Security.Authentication;
using MoqCluster.Protocol.Coding;

// CA1416: every path that touches System.Net.Quic is behind QuicSupport.ThrowIfUnsupported(), which returns only on
// Windows/Linux/macOS with msquic loaded, the platforms System.Net.Quic is annotated for.
#pragma warning disable CA1416

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Accepts moq-lite sessions over raw QUIC (spec §2.1) for native clients and cluster peers. The ALPN selects the
/// version (<c>moql</c> = legacy SETUP).
/// </summary>
public sealed class QuicMoqListener : IAsyncDisposable
{
    private readonly QuicListener _listener;

    private QuicMoqListener(QuicListener listener) => _listener = listener;

    /// <summary>The ALPNs accepted by default, in preference order: lite-05, lite-04, lite-03, then legacy SETUP.</summary>
    public static IReadOnlyList<string> DefaultApplicationProtocols { get; } =
        [MoqVersion.Lite05.Alpn()!, MoqVersion.Lite04.Alpn()!, MoqVersion.Lite03.Alpn()!, MoqVersions.LegacyAlpn];

    /// <summary>Whether raw QUIC works in this process (false without libmsquic); see <see cref="QuicSupport"/>.</summary>
    public static bool IsSupported => QuicSupport.IsSupported;

    /// <summary>Why QUIC is unavailable; null when <see cref="IsSupported"/>.</summary>
    public static string? UnsupportedReason => QuicSupport.UnsupportedReason;

    /// <summary>The bound address (with the real port when 0 was requested).</summary>
    public IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    /// <summary>Starts listening.</summary>
    /// <exception cref="PlatformNotSupportedException">QUIC is unavailable here (message says why).</exception>
    public static async Task<QuicMoqListener> ListenAsync(QuicMoqListenerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        QuicSupport.ThrowIfUnsupported();
        if (options.ApplicationProtocols.Count == 0)
        {
            throw new ArgumentException("at least one ALPN is required", nameof(options));
        }

        var alpns = options.ApplicationProtocols.Select(a => new SslApplicationProtocol(a)).ToList();
        var connectionOptions = new QuicServerConnectionOptions
        {
            // Used when a stream or the connection is dropped without an explicit code: "cancel" / clean close.
            DefaultStreamErrorCode = (long)MoqErrorCode.Cancel,
            DefaultCloseErrorCode = (long)MoqErrorCode.Cancel,
            MaxInboundBidirectionalStreams = options.MaxInboundBidirectionalStreams,
            MaxInboundUnidirectionalStreams = options.MaxInboundUnidirectionalStreams,
            IdleTimeout = options.IdleTimeout,
            KeepAliveInterval = options.KeepAliveInterval,
            HandshakeTimeout = options.HandshakeTimeout,
            ServerAuthenticationOptions = new SslServerAuthenticationOptions
            {
                ApplicationProtocols = alpns,
                ServerCertificate = options.Certificate,
            },
        };

        var listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = options.EndPoint,
            ApplicationProtocols = alpns,
            ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(connectionOptions),
        }, cancellationToken).ConfigureAwait(false);
        return new QuicMoqListener(listener);
    }

    /// <summary>
    /// Accepts the next connection whose handshake succeeded. Failed handshakes (no common ALPN, TLS errors,
    /// timeouts) are skipped: one bad client must not stop the accept loop.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The listener was disposed.</exception>
    public async Task<QuicMoqConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            QuicConnection connection;
            try
            {
                connection = await _listener.AcceptConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (QuicException e) when (e.QuicError != QuicError.OperationAborted)
            {
                continue;
            }
            catch (AuthenticationException)
            {
                continue;
            }

            return new QuicMoqConnection(connection);
        }
    }

    /// <summary>Stops listening. Connections already accepted stay open.</summary>
    public ValueTask DisposeAsync() => _listener.DisposeAsync();
}
