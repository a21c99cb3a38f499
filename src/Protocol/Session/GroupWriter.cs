using System.Runtime.CompilerServices;
using System.Buffers;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Session;

/// <summary>Writes a group's frames onto a stream in a version's frame layout; payloads are passed through, never copied.</summary>
internal static class GroupWriter
{
    /// <summary>
    /// Bodies up to this size are copied behind their header into one write when the payload cannot be queued by
    /// reference (a QUIC stream, or a group's first frame, whose stream header is too long to ride inline).
    /// </summary>
    private const int CoalesceLimit = 1024;

    /// <summary>Size of the scratch buffer <see cref="WriteFrameAsync"/> needs, a group's stream header included.</summary>
    public const int HeaderBufferSize = GroupHeader.MaxStreamPrefixSize + FrameHeader.MaxEncodedSize + CoalesceLimit;

    /// <summary>
    /// Writes every frame of <paramref name="group"/> until it finishes. lite-05 frames carry a timestamp delta
    /// from <paramref name="baseline"/> (the previous frame). Returns (frames, bytes) written.
    /// </summary>
    public static async ValueTask<(long Frames, long Bytes)> WriteFramesAsync(
        ISendStream stream, GroupConsumer group, MoqVersion version, long baseline, CancellationToken ct)
    {
        var header = ArrayPool<byte>.Shared.Rent(HeaderBufferSize);
        try
        {
            return await WriteFramesAsync(stream, group, version, baseline, header, ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    // Pooled: one state machine per group would otherwise be allocated whenever a write waits.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(long Frames, long Bytes)> WriteFramesAsync(
        ISendStream stream, GroupConsumer group, MoqVersion version, long baseline, byte[] header, CancellationToken ct)
    {
        long frames = 0, bytes = 0;
        var previous = baseline;
        while (await group.ReadFrameAsync(ct).ConfigureAwait(false) is { } frame)
        {
            await WriteFrameAsync(stream, group.Group, frame, previous, version, header, 0, ct).ConfigureAwait(false);
            previous = frame.Timestamp;
            frames++;
            bytes += frame.Payload.Length;
        }
        return (frames, bytes);
    }

    /// <summary>
    /// Writes one frame of <paramref name="group"/>, its timestamp as a delta from <paramref name="previous"/>
    /// (lite-05), through <paramref name="header"/> (<see cref="HeaderBufferSize"/> bytes, in use until the write
    /// completes). The first <paramref name="pending"/> bytes of <paramref name="header"/> are not written yet (the
    /// group's stream header, held back for its first frame): they go out in the same write, so opening a group costs
    /// a subscriber's connection no send of its own. Not async itself, so a caller's loop adds no state machine per
    /// frame or per group.
    /// </summary>
    public static ValueTask WriteFrameAsync(ISendStream stream, GroupProducer group, in Frame frame, long previous, MoqVersion version, byte[] header, int pending, CancellationToken ct)
    {
        var length = pending + new FrameHeader(frame.Payload.Length, frame.Timestamp - previous).Write(header.AsSpan(pending), version);
        // Payloads are immutable and shared by every subscriber: QMux queues them by reference, header inline,
        // holding the group so its pooled payloads are not reused before they are sent. Small ones too: a copy per
        // subscriber took a pooled chunk each, and a burst to a thousand subscribers held more than the pool keeps.
        if (stream is QMuxStream qmux && length <= StreamBuffer.MaxInlinePrefix)
            return qmux.WriteSharedAsync(header.AsMemory(0, length), frame.Payload, group, ct);
        if (frame.Payload.Length <= CoalesceLimit)
        {
            frame.Payload.Span.CopyTo(header.AsSpan(length));
            return stream.WriteAsync(header.AsMemory(0, length + frame.Payload.Length), cancellationToken: ct);
        }
        return WriteSeparatelyAsync(stream, header.AsMemory(0, length), frame.Payload, group, ct);
    }

    private static async ValueTask WriteSeparatelyAsync(ISendStream stream, ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload, GroupProducer group, CancellationToken ct)
    {
        await stream.WriteAsync(header, cancellationToken: ct).ConfigureAwait(false);
        if (stream is QMuxStream qmux)
            await qmux.WriteSharedAsync(ReadOnlyMemory<byte>.Empty, payload, group, ct).ConfigureAwait(false);
        else
            await stream.WriteAsync(payload, cancellationToken: ct).ConfigureAwait(false);
    }
}
