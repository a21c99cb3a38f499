using System.Net;
using System.Net.Quic;
using System.Net.Security;
using MoqCluster.Protocol.Coding;

// CA1416: ConnectAsync calls QuicSupport.ThrowIfUnsupported() before touching System.Net.Quic, so the annotated
// APIs only run on Windows/Linux/macOS with msquic loaded.
#pragma warning disable CA1416

namespace MoqCluster.Protocol.Transport;

/// <summary>Opens moq-lite sessions over raw QUIC (spec §2.1), e.g. relay-to-relay links.</summary>
public static class QuicMoqClient
{
    /// <summary>Whether raw QUIC works in this process; see <see cref="QuicSupport"/>.</summary>
    public static bool IsSupported => QuicSupport.IsSupported;

    /// <summary>Connects and completes the TLS handshake; the negotiated ALPN is the connection's application protocol.</summary>
    /// <param name="endPoint">An <see cref="IPEndPoint"/> or <see cref="DnsEndPoint"/>.</param>
    /// <param name="options">ALPN, TLS and limit settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <exception cref="PlatformNotSupportedException">QUIC is unavailable here (message says why).</exception>
    /// <exception cref="TimeoutException">The handshake did not finish within <see cref="QuicMoqClientOptions.ConnectTimeout"/>.</exception>
    public static async Task<QuicMoqConnection> ConnectAsync(
        EndPoint endPoint, QuicMoqClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= QuicMoqClientOptions.Default;
        QuicSupport.ThrowIfUnsupported();

        var targetHost = options.TargetHost ?? endPoint switch
        {
            DnsEndPoint dns => dns.Host,
            IPEndPoint ip => ip.Address.ToString(),
            _ => null,
        };
        var tls = new SslClientAuthenticationOptions
        {
            ApplicationProtocols = options.ApplicationProtocols.Select(a => new SslApplicationProtocol(a)).ToList(),
            TargetHost = targetHost,
        };
        if (options.CertificateValidation is not null)
        {
            tls.RemoteCertificateValidationCallback = options.CertificateValidation;
        }
        else if (!options.VerifyCertificate)
        {
            tls.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            var connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
            {
                RemoteEndPoint = endPoint,
                ClientAuthenticationOptions = tls,
                DefaultStreamErrorCode = (long)MoqErrorCode.Cancel,
                DefaultCloseErrorCode = (long)MoqErrorCode.Cancel,
                // Clients default to 0 inbound streams, but a moq-lite server opens bidi and uni streams towards us.
                MaxInboundBidirectionalStreams = options.MaxInboundBidirectionalStreams,
                MaxInboundUnidirectionalStreams = options.MaxInboundUnidirectionalStreams,
                IdleTimeout = options.IdleTimeout,
                KeepAliveInterval = options.KeepAliveInterval,
            }, timeout.Token).ConfigureAwait(false);
            return new QuicMoqConnection(connection);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"QUIC connect to {endPoint} timed out after {options.ConnectTimeout}", e);
        }
    }
}
