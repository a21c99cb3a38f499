using Microsoft.Extensions.Logging;

namespace MoqCluster.Protocol.Transport;

/// <summary>Server-side settings for accepting MoQ WebSocket sessions.</summary>
public sealed record MoqWebSocketOptions
{
    /// <summary>Shared defaults.</summary>
    public static MoqWebSocketOptions Default { get; } = new();

    /// <summary>Which subprotocols are accepted, in server preference order. Default: everything, qmux-00 first.</summary>
    public SubprotocolSelector Selector { get; init; } = SubprotocolSelector.Default;

    /// <summary>
    /// Interval of WebSocket Ping frames sent by the server (5 s, as the Rust relay). Keeps NATs and proxies from
    /// dropping idle sessions (a subscriber waiting for an announcement sends nothing) and lets a dead peer be
    /// noticed. <see cref="TimeSpan.Zero"/> disables pings.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long to wait for the Pong to a keep-alive Ping before aborting the socket (the Rust relay drops a
    /// session after 30 s of silence). <see cref="Timeout.InfiniteTimeSpan"/> disables the check.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Limits advertised to and enforced on the client. <see cref="QMuxOptions.MaxIncomingRecordSize"/> also bounds
    /// every WebSocket message (larger ones close the session with 1009).
    /// </summary>
    public QMuxOptions QMux { get; init; } = QMuxOptions.Default;

    /// <summary>Receives one line per abnormal close of a session.</summary>
    public ILogger? Logger { get; init; }
}
