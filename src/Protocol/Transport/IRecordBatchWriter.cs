namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Optional side of an <see cref="IRecordChannel"/> that can take several records and send them in one write:
/// the QMux writer composes each record straight into the channel's output memory, commits it, and flushes once
/// per batch, so a busy session pays one flush (one syscall) for many records and no extra copy per record.
/// </summary>
/// <remarks>
/// Only the QMux writer loop calls these members, one at a time and never concurrently with
/// <see cref="IRecordChannel.SendAsync"/>. A channel that fails reports it from <see cref="FlushAsync"/> as
/// <see cref="ConnectionClosedException"/> (or the transport's own I/O exception).
/// </remarks>
public interface IRecordBatchWriter
{
    /// <summary>
    /// Room for one record of up to <paramref name="maxLength"/> bytes (at most <see cref="IRecordChannel.MaxRecordSize"/>),
    /// valid until <see cref="CommitRecord"/>. The span is at least <paramref name="maxLength"/> bytes long.
    /// </summary>
    Span<byte> GetRecordSpan(int maxLength);

    /// <summary>
    /// Makes the first <paramref name="length"/> bytes of the last <see cref="GetRecordSpan"/> one record, framed
    /// for the transport; 0 commits nothing. Nothing reaches the peer before <see cref="FlushAsync"/>.
    /// </summary>
    void CommitRecord(int length);

    /// <summary>Bytes committed since the last flush, framing included.</summary>
    int PendingBytes { get; }

    /// <summary>Sends every committed record; waits while the transport pushes back.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}
