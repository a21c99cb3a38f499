namespace MoqCluster.Bench.Load;

/// <summary>The sending side of one broadcast.</summary>
internal interface IFramePublisher : IAsyncDisposable
{
    /// <summary>Queues a frame (the bytes are copied); <paramref name="startsGroup"/> opens a new group first.</summary>
    void Write(ReadOnlySpan<byte> frame, bool startsGroup);

    /// <summary>Hands the queued frames to the transport.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}
