namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A multiplexed connection that carries moq-lite streams: raw QUIC, QMux over WebSocket or TCP,
/// the legacy WebSocket framing, or an in-memory pair. Everything above this interface is
/// transport-agnostic.
/// </summary>
public interface IMoqConnection : IAsyncDisposable
{
    /// <summary>
    /// The negotiated application protocol (ALPN, WebTransport protocol or WebSocket subprotocol suffix),
    /// e.g. <c>moq-lite-04</c>; null or <c>moql</c> when the version is negotiated by legacy SETUP.
    /// </summary>
    string? ApplicationProtocol { get; }

    /// <summary>A short name for logs and metrics, e.g. <c>websocket/qmux-00</c>, <c>tcp/qmux</c>, <c>quic</c>.</summary>
    string TransportName { get; }

    /// <summary>
    /// True when the transport has no URL (raw QUIC, QMux over TCP): a lite-05 client then sends its
    /// path and token in the SETUP Path parameter.
    /// </summary>
    bool IsUrlLess { get; }

    /// <summary>Opens a bidirectional stream, waiting for stream credit if needed.</summary>
    ValueTask<IBidiStream> OpenBidiAsync(CancellationToken cancellationToken = default);

    /// <summary>Opens a unidirectional send stream, waiting for stream credit if needed.</summary>
    ValueTask<ISendStream> OpenUniAsync(CancellationToken cancellationToken = default);

    /// <summary>Accepts the next bidirectional stream the peer opened; null once the connection is closed.</summary>
    ValueTask<IBidiStream?> AcceptBidiAsync(CancellationToken cancellationToken = default);

    /// <summary>Accepts the next unidirectional stream the peer opened; null once the connection is closed.</summary>
    ValueTask<IRecvStream?> AcceptUniAsync(CancellationToken cancellationToken = default);

    /// <summary>Closes the connection with an application code and reason. Idempotent.</summary>
    void Close(ulong code, string reason);

    /// <summary>Completes when the connection is closed, by either side or by a transport failure.</summary>
    Task<ConnectionCloseInfo> Closed { get; }
}

/// <summary>Why a connection closed.</summary>
/// <param name="Code">The application close code (0 = clean).</param>
/// <param name="Reason">A human-readable reason.</param>
/// <param name="ByPeer">True when the peer closed the connection (or it failed under us).</param>
public sealed record ConnectionCloseInfo(ulong Code, string Reason, bool ByPeer);
