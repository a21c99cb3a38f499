using System.Net.Security;

namespace MoqCluster.Protocol.Transport;

/// <summary>Settings for <see cref="QuicMoqClient"/>.</summary>
public sealed record QuicMoqClientOptions
{
    /// <summary>Shared defaults.</summary>
    public static QuicMoqClientOptions Default { get; } = new();

    /// <summary>ALPNs offered, in preference order. Default as the listener: lite-05, lite-04, lite-03, <c>moql</c>.</summary>
    public IReadOnlyList<string> ApplicationProtocols { get; init; } = QuicMoqListener.DefaultApplicationProtocols;

    /// <summary>The TLS server name (SNI and certificate name check); defaults to the endpoint's host.</summary>
    public string? TargetHost { get; init; }

    /// <summary>Whether the server certificate is validated (default true). False accepts any: development only.</summary>
    public bool VerifyCertificate { get; init; } = true;

    /// <summary>A custom certificate check (e.g. pinning); overrides <see cref="VerifyCertificate"/>.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    /// <summary>Upper bound on the QUIC/TLS handshake. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many bidi streams the server may have open towards us (it opens SUBSCRIBE/ANNOUNCE streams too).</summary>
    public int MaxInboundBidirectionalStreams { get; init; } = 1000;

    /// <summary>How many uni streams the server may have open towards us (each group is one).</summary>
    public int MaxInboundUnidirectionalStreams { get; init; } = 1000;

    /// <summary>Idle timeout. Default 30 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Interval of QUIC PING keep-alives; <see cref="TimeSpan.Zero"/> disables them. Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);
}
