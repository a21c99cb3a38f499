using System.Buffers.Binary;

namespace MoqCluster.Protocol.Coding;

/// <summary>QUIC variable-length integers (RFC 9000 §16), used by every moq-lite version.</summary>
public static class VarInt
{
    /// <summary>Largest value a varint can carry: 2^62 - 1.</summary>
    public const ulong MaxValue = (1UL << 62) - 1;

    /// <summary>Largest integer the JavaScript clients read without loss (2^53 - 1).</summary>
    public const ulong MaxSafeInteger = (1UL << 53) - 1;

    /// <summary>The minimal encoded size of <paramref name="value"/>: 1, 2, 4 or 8 bytes.</summary>
    public static int SizeOf(ulong value) => value switch
    {
        <= 63 => 1,
        <= 16383 => 2,
        <= 1073741823 => 4,
        <= MaxValue => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "varint exceeds 2^62-1"),
    };

    /// <summary>Writes the minimal encoding of <paramref name="value"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, ulong value)
    {
        switch (SizeOf(value))
        {
            case 1:
                destination[0] = (byte)value;
                return 1;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(value | 0x4000));
                return 2;
            case 4:
                BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value | 0x8000_0000u);
                return 4;
            default:
                BinaryPrimitives.WriteUInt64BigEndian(destination, value | 0xC000_0000_0000_0000ul);
                return 8;
        }
    }

    /// <summary>The encoded length announced by a varint's first byte.</summary>
    public static int LengthFromFirstByte(byte first) => 1 << (first >> 6);

    /// <summary>
    /// Reads a varint of any (not necessarily minimal) length. Returns false when
    /// <paramref name="source"/> is too short; <paramref name="consumed"/> then holds the bytes needed.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int consumed)
    {
        if (source.IsEmpty)
        {
            value = 0;
            consumed = 1;
            return false;
        }
        consumed = LengthFromFirstByte(source[0]);
        if (source.Length < consumed)
        {
            value = 0;
            return false;
        }
        value = consumed switch
        {
            1 => source[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(source) & 0x3FFFu,
            4 => BinaryPrimitives.ReadUInt32BigEndian(source) & 0x3FFF_FFFFu,
            _ => BinaryPrimitives.ReadUInt64BigEndian(source) & 0x3FFF_FFFF_FFFF_FFFFul,
        };
        return true;
    }

    /// <summary>Zigzag-encodes a signed delta (lite-05 frame timestamps).</summary>
    public static ulong ZigZagEncode(long value) => (ulong)((value << 1) ^ (value >> 63));

    /// <summary>Decodes a zigzag-encoded value.</summary>
    public static long ZigZagDecode(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
}
