using System.Buffers.Binary;
using System.Diagnostics;

namespace MoqCluster.Cluster.Tests;

/// <summary>A frame the C# clients write: group sequence, frame index and the send timestamp, padded to a size.</summary>
internal static class TestFrame
{
    /// <summary>Header bytes (sequence, index, <see cref="Stopwatch"/> timestamp).</summary>
    public const int HeaderSize = 20;

    public static byte[] Create(ulong sequence, int index, int size = 200)
    {
        var bytes = new byte[Math.Max(size, HeaderSize)];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, sequence);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), index);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(12), Stopwatch.GetTimestamp());
        return bytes;
    }

    public static (ulong Sequence, int Index, long SentAt) Read(ReadOnlySpan<byte> bytes) =>
        (BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadInt32BigEndian(bytes[8..]), BinaryPrimitives.ReadInt64BigEndian(bytes[12..]));
}
