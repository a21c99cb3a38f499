namespace MoqCluster.Protocol.Transport;

/// <summary>The outcome of <see cref="SubprotocolSelector.Select"/>.</summary>
/// <param name="Accepted">False when the upgrade must be refused (HTTP 400).</param>
/// <param name="Subprotocol">
/// The value to echo in <c>Sec-WebSocket-Protocol</c>; null when the client offered none (then nothing is echoed).
/// </param>
/// <param name="WireFormat">The framing to speak.</param>
/// <param name="ApplicationProtocol">The application protocol (e.g. <c>moq-lite-04</c>); null or <c>moql</c> means legacy SETUP.</param>
/// <param name="Reason">Why a selection was refused, for logs and the 400 body.</param>
public sealed record SubprotocolSelection(
    bool Accepted,
    string? Subprotocol,
    QMuxWireFormat WireFormat,
    string? ApplicationProtocol,
    string? Reason = null)
{
    /// <summary>A refusal with a reason.</summary>
    public static SubprotocolSelection Reject(string reason) => new(false, null, QMuxWireFormat.Legacy, null, reason);

    /// <summary>The transport name for logs and metrics, e.g. <c>websocket/qmux-00</c>.</summary>
    public string TransportName => WireFormat switch
    {
        // Constants: every session keeps its transport name for logs and metrics.
        QMuxWireFormat.Legacy => "websocket/" + WebSocketSubprotocol.LegacyTag,
        QMuxWireFormat.Qmux00 => "websocket/qmux-00",
        QMuxWireFormat.Qmux01 => "websocket/qmux-01",
        QMuxWireFormat.Qmux02 => "websocket/qmux-02",
        _ => $"websocket/{WebSocketSubprotocol.Tag(WireFormat)}",
    };
}
