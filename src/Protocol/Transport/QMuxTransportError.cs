namespace MoqCluster.Protocol.Transport;

/// <summary>
/// QUIC transport error codes (RFC 9000 §20.1) that a <see cref="QMuxConnection"/> sends in
/// CONNECTION_CLOSE and reports in <see cref="IMoqConnection.Closed"/> when the peer breaks the
/// framing or flow-control rules.
/// </summary>
public static class QMuxTransportError
{
    /// <summary>An unexpected local failure.</summary>
    public const ulong InternalError = 0x1;

    /// <summary>The peer sent more data than the advertised connection or stream limit.</summary>
    public const ulong FlowControlError = 0x3;

    /// <summary>The peer opened a stream beyond the advertised stream count.</summary>
    public const ulong StreamLimitError = 0x4;

    /// <summary>A frame referred to a stream in a state (or direction) that does not allow it.</summary>
    public const ulong StreamStateError = 0x5;

    /// <summary>Data beyond a stream's final size, or a changed final size.</summary>
    public const ulong FinalSizeError = 0x6;

    /// <summary>A frame or record could not be decoded (unknown type, truncated, oversized).</summary>
    public const ulong FrameEncodingError = 0x7;

    /// <summary>The peer's QX_TRANSPORT_PARAMETERS were malformed or out of place.</summary>
    public const ulong TransportParameterError = 0x8;

    /// <summary>Any other rule violation.</summary>
    public const ulong ProtocolViolation = 0xa;
}
