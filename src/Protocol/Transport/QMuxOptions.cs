namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Limits a <see cref="QMuxConnection"/> advertises to its peer in QX_TRANSPORT_PARAMETERS and
/// enforces on it, plus local buffering bounds. The defaults follow spec §2.3.4 (generous limits so
/// browser clients never starve).
/// </summary>
public sealed record QMuxOptions
{
    /// <summary>Shared defaults.</summary>
    public static QMuxOptions Default { get; } = new();

    /// <summary>initial_max_data (0x04): connection-wide bytes the peer may send before MAX_DATA. Default 16 MiB.</summary>
    public long InitialMaxData { get; init; } = 16 * 1024 * 1024;

    /// <summary>initial_max_stream_data_bidi_local (0x05): per-stream window on bidi streams we open. Default 1 MiB.</summary>
    public long InitialMaxStreamDataBidiLocal { get; init; } = 1024 * 1024;

    /// <summary>initial_max_stream_data_bidi_remote (0x06): per-stream window on bidi streams the peer opens. Default 1 MiB.</summary>
    public long InitialMaxStreamDataBidiRemote { get; init; } = 1024 * 1024;

    /// <summary>initial_max_stream_data_uni (0x07): per-stream window on uni streams the peer opens. Default 1 MiB.</summary>
    public long InitialMaxStreamDataUni { get; init; } = 1024 * 1024;

    /// <summary>initial_max_streams_bidi (0x08): bidi streams the peer may have open at once. Default 1000.</summary>
    public long InitialMaxStreamsBidi { get; init; } = 1000;

    /// <summary>initial_max_streams_uni (0x09): uni streams the peer may have open at once. Default 1000.</summary>
    public long InitialMaxStreamsUni { get; init; } = 1000;

    /// <summary>max_idle_timeout (0x01) in milliseconds; 0 (the default) omits it. Advertised only, not enforced here.</summary>
    public long MaxIdleTimeoutMs { get; init; }

    /// <summary>
    /// max_record_size (0x0571c59429cd0845): the largest record we accept. Enforced on qmux-01/02;
    /// on legacy and qmux-00 incoming records may be up to <see cref="MaxIncomingRecordSize"/>. Default 16 382.
    /// </summary>
    public int MaxRecordSize { get; init; } = 16382;

    /// <summary>
    /// Whether max_record_size is sent. Null (the default) sends it on qmux-01/02 only; true also on
    /// qmux-00 (spec §7.3 W2 relay example), false never.
    /// </summary>
    public bool? AdvertiseMaxRecordSize { get; init; }

    /// <summary>
    /// Largest record accepted on legacy and qmux-00 framing. Default 2 MiB: <c>@kixelated/moq</c> 0.9.4 sends each
    /// frame as one legacy STREAM message, so this bounds the keyframes it can publish; at most one such record is
    /// buffered per connection at a time.
    /// </summary>
    public int MaxIncomingRecordSize { get; init; } = 2 * 1024 * 1024;

    /// <summary>
    /// Bytes a send stream may hold queued before <see cref="ISendStream.WriteAsync"/> waits for the
    /// writer (and therefore for the peer's flow-control credit). Default 256 KiB.
    /// </summary>
    public int SendBufferSize { get; init; } = 256 * 1024;

    /// <summary>
    /// Legacy framing has no flow control: the connection is closed when more than this many received
    /// bytes are buffered unread across all streams. Default 64 MiB.
    /// </summary>
    public long MaxLegacyBufferedBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>How long the final close frame may take to send before the channel is dropped. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
