namespace MoqCluster.Protocol.Transport;

/// <summary>A MoQ session accepted from a WebSocket upgrade.</summary>
/// <param name="Connection">The multiplexed connection (server role); the caller owns and disposes it.</param>
/// <param name="Path">The request path: the session's root (spec §2.3, §5.2), e.g. <c>/anon/room</c>.</param>
/// <param name="Jwt">The <c>jwt</c> query parameter, the session credential; null when absent or empty (spec §6.1).</param>
/// <param name="Subprotocol">The echoed subprotocol; null when the client offered none (legacy framing).</param>
/// <param name="Selection">The full negotiation result (wire format, application protocol).</param>
public sealed record AcceptedConnection(
    IMoqConnection Connection,
    string Path,
    string? Jwt,
    string? Subprotocol,
    SubprotocolSelection Selection);
