using System.Buffers.Binary;
using System.Diagnostics;

namespace MoqCluster.Bench.Load;

/// <summary>
/// The layout of every frame the generator sends, whatever the system under test: the send time
/// (<see cref="Stopwatch"/> ticks, one clock because publishers and subscribers share a process), the
/// frame sequence within its broadcast, then zero padding up to the frame size.
/// </summary>
internal static class FramePayload
{
    /// <summary>Bytes taken by the header; frames must be at least this long.</summary>
    public const int HeaderSize = 16;

    /// <summary>Stamps <paramref name="sequence"/> and the current time into the first bytes of <paramref name="frame"/>.</summary>
    public static void Stamp(Span<byte> frame, long sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(frame, Stopwatch.GetTimestamp());
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], sequence);
    }

    /// <summary>Reads the send time and sequence back; false when the frame is too short to carry them.</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out long sentTicks, out long sequence)
    {
        if (frame.Length < HeaderSize)
        {
            sentTicks = sequence = 0;
            return false;
        }
        sentTicks = BinaryPrimitives.ReadInt64LittleEndian(frame);
        sequence = BinaryPrimitives.ReadInt64LittleEndian(frame[8..]);
        return true;
    }
}
