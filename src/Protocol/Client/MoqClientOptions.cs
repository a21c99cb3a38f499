using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;

namespace MoqCluster.Protocol.Client;

/// <summary>Options for <see cref="MoqClient.ConnectAsync"/>.</summary>
public sealed record MoqClientOptions
{
    /// <summary>Verify the server's TLS certificate (https/wss/quic). Disable only for development.</summary>
    public bool VerifyCertificate { get; init; } = true;

    /// <summary>A JWT sent as <c>?jwt=</c> on the URL (or in the lite-05 SETUP path on URL-less transports).</summary>
    public string? Token { get; init; }

    /// <summary>Versions offered, newest first.</summary>
    public IReadOnlyList<MoqVersion> Versions { get; init; } = MoqVersions.All;

    /// <summary>WebSocket subprotocols offered; null = derived from <see cref="Versions"/> (QMux draft-00, then legacy).</summary>
    public IReadOnlyList<string>? Subprotocols { get; init; }

    /// <summary>How long connecting and negotiating may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bounds applied to what the server sends.</summary>
    public ProtocolLimits Limits { get; init; } = ProtocolLimits.Default;

    /// <summary>Logger for session events.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Receives the session's events (groups, subscriptions, announcements), e.g. for metrics.</summary>
    public ISessionObserver? Observer { get; init; }

    /// <summary>
    /// Bytes of recent groups kept per subscribed track beyond what its readers still need (see
    /// <see cref="SessionOptions.SubscribedTrackCacheBytes"/>); lower it when each track is read once, as it arrives.
    /// </summary>
    public long SubscribedTrackCacheBytes { get; init; } = TrackProducer.DefaultCacheBytes;
}
