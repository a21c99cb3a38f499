using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace MoqCluster.Protocol.Transport;

/// <summary>Settings for <see cref="QuicMoqListener"/>.</summary>
public sealed record QuicMoqListenerOptions
{
    /// <summary>Where to listen (UDP). Use port 0 for an ephemeral port.</summary>
    public required IPEndPoint EndPoint { get; init; }

    /// <summary>The TLS server certificate, with its private key.</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>ALPNs accepted, in preference order. Default: <c>moq-lite-05</c>, <c>moq-lite-04</c>, <c>moq-lite-03</c>, <c>moql</c>.</summary>
    public IReadOnlyList<string> ApplicationProtocols { get; init; } = QuicMoqListener.DefaultApplicationProtocols;

    /// <summary>How many bidi streams a peer may have open at once (each SUBSCRIBE/ANNOUNCE/PROBE is one).</summary>
    public int MaxInboundBidirectionalStreams { get; init; } = 1000;

    /// <summary>How many uni streams a peer may have open at once (each group is one).</summary>
    public int MaxInboundUnidirectionalStreams { get; init; } = 1000;

    /// <summary>Idle timeout after which a silent connection is closed. Default 30 s, as the Rust relay.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Interval of QUIC PING keep-alives; <see cref="TimeSpan.Zero"/> disables them. Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest TLS handshake allowed before the connection attempt is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
