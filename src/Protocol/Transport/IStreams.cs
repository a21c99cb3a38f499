namespace MoqCluster.Protocol.Transport;

/// <summary>The sending half of a stream.</summary>
public interface ISendStream
{
    /// <summary>The transport's stream id (QUIC numbering where the transport has one).</summary>
    long Id { get; }

    /// <summary>
    /// Scheduling weight across the connection: higher values are sent first when streams compete
    /// (WebTransport <c>sendOrder</c> semantics). Control streams stay at 0 so they beat media.
    /// </summary>
    long SendOrder { get; set; }

    /// <summary>
    /// Queues <paramref name="data"/> (the caller may reuse the memory once the task completes) and,
    /// when <paramref name="fin"/> is set, finishes the stream. Waits for flow-control credit.
    /// Throws <see cref="StreamAbortedException"/> after the peer sent STOP_SENDING or the stream was reset.
    /// </summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool fin = false, CancellationToken cancellationToken = default);

    /// <summary>Abruptly ends the stream with an error code (RESET_STREAM). Idempotent.</summary>
    void Reset(ulong code);

    /// <summary>Completes with the peer's code when it sends STOP_SENDING; never completes otherwise.</summary>
    Task<ulong> Stopped { get; }
}

/// <summary>The receiving half of a stream.</summary>
public interface IRecvStream
{
    /// <summary>The transport's stream id.</summary>
    long Id { get; }

    /// <summary>
    /// Reads available bytes into <paramref name="buffer"/>; returns 0 at FIN. Throws
    /// <see cref="StreamAbortedException"/> when the peer reset the stream, and
    /// <see cref="ConnectionClosedException"/> when the connection closed.
    /// </summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Asks the peer to stop sending (STOP_SENDING) and discards further data. Idempotent.</summary>
    void StopSending(ulong code);
}

/// <summary>A bidirectional stream: both halves.</summary>
public interface IBidiStream
{
    /// <summary>The stream id shared by both halves.</summary>
    long Id { get; }

    /// <summary>Our sending half.</summary>
    ISendStream Send { get; }

    /// <summary>Our receiving half.</summary>
    IRecvStream Recv { get; }
}

/// <summary>A stream was reset by the peer, stopped by the peer, or aborted locally.</summary>
public sealed class StreamAbortedException(ulong code, string message) : IOException(message)
{
    /// <summary>The reset or stop-sending code.</summary>
    public ulong Code { get; } = code;
}

/// <summary>The connection closed while a stream operation was pending.</summary>
public sealed class ConnectionClosedException(ulong code, string message) : IOException(message)
{
    /// <summary>The connection's close code.</summary>
    public ulong Code { get; } = code;
}
