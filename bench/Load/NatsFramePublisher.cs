namespace MoqCluster.Bench.Load;

/// <summary>One NATS publisher connection feeding one subject; groups have no meaning on the wire.</summary>
internal sealed class NatsFramePublisher(NatsConnection connection, string subject) : IFramePublisher
{
    /// <inheritdoc/>
    public void Write(ReadOnlySpan<byte> frame, bool startsGroup) => connection.Publish(subject, frame);

    /// <inheritdoc/>
    public ValueTask FlushAsync(CancellationToken cancellationToken) => connection.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
