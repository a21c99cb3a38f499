namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A message-oriented carrier under QMux or the legacy framing: a WebSocket (one binary message per
/// record) or a TCP byte stream (varint-length-prefixed records). The QMux engine owns the framing
/// inside each record.
/// </summary>
public interface IRecordChannel : IAsyncDisposable
{
    /// <summary>Largest record the peer accepts (16 384 for WebSocket peers; larger for TCP).</summary>
    int MaxRecordSize { get; }

    /// <summary>Sends one record. Calls are serialised by the caller.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Receives the next record; null when the peer closed the channel. The memory stays valid until the
    /// next call. Throws <see cref="ConnectionClosedException"/> on a failure or a non-binary message.
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Closes the channel (a WebSocket Close frame with <paramref name="reason"/>, or a TCP shutdown). Idempotent.</summary>
    ValueTask CloseAsync(ulong code, string reason);
}
