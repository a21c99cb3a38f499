namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A WebSocket upgrade accepted at the record level, before a QMux connection is built on it. Useful for
/// custom framings and for tests of the negotiation itself.
/// </summary>
/// <param name="Channel">
/// The record channel over the accepted socket; the caller owns and disposes it. A <see cref="WebSocketServerChannel"/>
/// (also an <see cref="IRecordBatchWriter"/>) for HTTP/1.1 upgrades, a <see cref="WebSocketRecordChannel"/> for HTTP/2.
/// </param>
/// <param name="Path">The request path (the session root).</param>
/// <param name="Jwt">The <c>jwt</c> query parameter; null when absent or empty.</param>
/// <param name="Selection">The negotiation result.</param>
public sealed record AcceptedChannel(
    IRecordChannel Channel,
    string Path,
    string? Jwt,
    SubprotocolSelection Selection);
