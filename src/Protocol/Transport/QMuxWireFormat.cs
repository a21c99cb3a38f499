namespace MoqCluster.Protocol.Transport;

/// <summary>How streams are framed inside the records of an <see cref="IRecordChannel"/> (spec §2.3).</summary>
public enum QMuxWireFormat
{
    /// <summary>
    /// The legacy <c>webtransport</c> subprotocol (<c>@moq/web-transport-ws</c>): one frame per record,
    /// raw type byte, no flow control, no transport parameters.
    /// </summary>
    Legacy,

    /// <summary>QMux draft-00 (<c>qmux-00</c>): one QUIC-style frame per record, flow control, transport parameters.</summary>
    Qmux00,

    /// <summary>QMux draft-01 (<c>qmux-01</c>): records hold one or more frames; adds QX_PING and max_record_size.</summary>
    Qmux01,

    /// <summary>QMux draft-02 (<c>qmux-02</c>): as draft-01 (RESET_STREAM_AT is accepted as a plain reset).</summary>
    Qmux02,
}
