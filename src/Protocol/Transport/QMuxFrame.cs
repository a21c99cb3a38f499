namespace MoqCluster.Protocol.Transport;

/// <summary>What a decoded <see cref="QMuxFrame"/> is.</summary>
internal enum QMuxFrameKind
{
    Padding,
    Stream,
    ResetStream,
    StopSending,
    MaxData,
    MaxStreamData,
    MaxStreamsBidi,
    MaxStreamsUni,
    /// <summary>DATA_BLOCKED, STREAM_DATA_BLOCKED, STREAMS_BLOCKED: informational only.</summary>
    Blocked,
    ConnectionClose,
    ApplicationClose,
    TransportParameters,
    PingRequest,
    PingResponse,
    /// <summary>DATAGRAM frames; moq-lite datagrams are not carried by this engine.</summary>
    Datagram,
}

/// <summary>
/// One decoded frame. Only the fields that belong to <see cref="Kind"/> are meaningful; <see cref="Data"/>
/// aliases the record it came from and is valid only while that record is.
/// </summary>
internal readonly record struct QMuxFrame
{
    public QMuxFrameKind Kind { get; init; }

    /// <summary>The wire frame type (echoed in CONNECTION_CLOSE on errors).</summary>
    public ulong Type { get; init; }

    public long StreamId { get; init; }

    /// <summary>STREAM offset, or -1 when the frame carried none (legacy, or OFF bit clear).</summary>
    public long Offset { get; init; }

    public ReadOnlyMemory<byte> Data { get; init; }

    public bool Fin { get; init; }

    /// <summary>RESET_STREAM / STOP_SENDING / close error code.</summary>
    public ulong ErrorCode { get; init; }

    /// <summary>RESET_STREAM final size, or -1 when the framing has none (legacy).</summary>
    public long FinalSize { get; init; }

    /// <summary>MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS value.</summary>
    public long Maximum { get; init; }

    /// <summary>CONNECTION_CLOSE offending frame type.</summary>
    public ulong FrameType { get; init; }

    public string? Reason { get; init; }

    /// <summary>QX_PING sequence.</summary>
    public ulong Sequence { get; init; }

    public QMuxTransportParameters? Parameters { get; init; }
}
