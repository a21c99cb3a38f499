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
    /// <summary>Bodies smaller than this are coalesced with their header into one write.</summary>
    private const int CoalesceLimit = 1024;

    /// <summary>
    /// Writes every frame of <paramref name="group"/> until it finishes. lite-05 frames carry a timestamp delta
    /// from <paramref name="baseline"/> (the previous frame). Returns (frames, bytes) written.
    /// </summary>
    public static async ValueTask<(long Frames, long Bytes)> WriteFramesAsync(
        ISendStream stream, GroupConsumer group, MoqVersion version, long baseline, CancellationToken ct,
        Func<bool>? isStale = null)
    {
        var header = ArrayPool<byte>.Shared.Rent(FrameHeader.MaxEncodedSize + CoalesceLimit);
        try
        {
            return await WriteFramesAsync(stream, group, version, baseline, header, isStale, ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    // Pooled: one state machine per group and subscriber would otherwise be allocated whenever a write waits.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(long Frames, long Bytes)> WriteFramesAsync(
        ISendStream stream, GroupConsumer group, MoqVersion version, long baseline, byte[] header, Func<bool>? isStale, CancellationToken ct)
    {
        long frames = 0, bytes = 0;
        var previous = baseline;
        while (await group.ReadFrameAsync(ct).ConfigureAwait(false) is { } frame)
        {
            if (isStale?.Invoke() == true)
                throw new ProtocolException(MoqErrorCode.Old, "group superseded beyond the latency bound");
            var length = new FrameHeader(frame.Payload.Length, frame.Timestamp - previous).Write(header, version);
            previous = frame.Timestamp;
            if (frame.Payload.Length <= CoalesceLimit)
            {
                frame.Payload.Span.CopyTo(header.AsSpan(length));
                await stream.WriteAsync(header.AsMemory(0, length + frame.Payload.Length), cancellationToken: ct).ConfigureAwait(false);
            }
            else
            {
                // Payloads are immutable and shared by every subscriber: QMux queues them by reference, header inline,
                // holding the group so its pooled payloads are not reused before they are sent.
                if (stream is QMuxStream qmux)
                {
                    await qmux.WriteSharedAsync(header.AsMemory(0, length), frame.Payload, group.Group, ct).ConfigureAwait(false);
                }
                else
                {
                    await stream.WriteAsync(header.AsMemory(0, length), cancellationToken: ct).ConfigureAwait(false);
                    await stream.WriteAsync(frame.Payload, cancellationToken: ct).ConfigureAwait(false);
                }
            }
            frames++;
            bytes += frame.Payload.Length;
        }
        return (frames, bytes);
    }
}
