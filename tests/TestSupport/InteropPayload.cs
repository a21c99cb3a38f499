using System.Buffers.Binary;

namespace MoqCluster.TestSupport;

/// <summary>
/// The self-describing frame payload of the interop scripts (<c>tests/Interop/js/lib/payload.mjs</c>),
/// so C# publishers can write frames <c>sub.mjs</c> verifies and C# subscribers can verify frames
/// from <c>pub.mjs</c> or <c>server.mjs --mode source</c>. Big-endian 32-byte header:
/// "MQI1", u32 group, u32 frame, f64 send time (ms since the Unix epoch), u32 total length,
/// u32 frames per group, u32 groups; then filler byte <c>i = (group*7 + frame*13 + i) &amp; 0xff</c>.
/// </summary>
public static class InteropPayload
{
    /// <summary>Size of the header; the minimum payload size.</summary>
    public const int HeaderSize = 32;

    private static ReadOnlySpan<byte> Magic => "MQI1"u8;

    /// <summary>Build one frame payload.</summary>
    /// <param name="group">Group index (0-based).</param>
    /// <param name="frame">Frame index within the group (0-based).</param>
    /// <param name="size">Total size in bytes (at least <see cref="HeaderSize"/>).</param>
    /// <param name="framesPerGroup">Frames per group the publisher writes.</param>
    /// <param name="groups">Groups the publisher writes.</param>
    public static byte[] Encode(int group, int frame, int size, int framesPerGroup, int groups)
    {
        var buf = new byte[Math.Max(HeaderSize, size)];
        Magic.CopyTo(buf);
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(4), (uint)group);
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(8), (uint)frame);
        BinaryPrimitives.WriteDoubleBigEndian(buf.AsSpan(12), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(20), (uint)buf.Length);
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(24), (uint)framesPerGroup);
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(28), (uint)groups);
        for (var i = HeaderSize; i < buf.Length; i++)
        {
            buf[i] = Filler(group, frame, i);
        }

        return buf;
    }

    /// <summary>Check a received payload.</summary>
    /// <param name="payload">The frame bytes.</param>
    /// <param name="header">The decoded header when the payload is intact.</param>
    /// <param name="error">What is wrong otherwise.</param>
    /// <returns>True when magic, length and filler are all correct.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> payload, out InteropPayloadHeader header, out string? error)
    {
        header = default;
        if (payload.Length < HeaderSize || !payload[..4].SequenceEqual(Magic))
        {
            error = payload.Length < HeaderSize ? $"short payload ({payload.Length} bytes)" : "bad magic";
            return false;
        }

        header = new InteropPayloadHeader(
            (int)BinaryPrimitives.ReadUInt32BigEndian(payload[4..]),
            (int)BinaryPrimitives.ReadUInt32BigEndian(payload[8..]),
            BinaryPrimitives.ReadDoubleBigEndian(payload[12..]),
            (int)BinaryPrimitives.ReadUInt32BigEndian(payload[20..]),
            (int)BinaryPrimitives.ReadUInt32BigEndian(payload[24..]),
            (int)BinaryPrimitives.ReadUInt32BigEndian(payload[28..]));
        if (header.Length != payload.Length)
        {
            error = $"length field {header.Length} != {payload.Length} received";
            return false;
        }

        for (var i = HeaderSize; i < payload.Length; i++)
        {
            if (payload[i] != Filler(header.Group, header.Frame, i))
            {
                error = $"filler mismatch at byte {i}";
                return false;
            }
        }

        error = null;
        return true;
    }

    private static byte Filler(int group, int frame, int i) => (byte)((group * 7) + (frame * 13) + i);
}
