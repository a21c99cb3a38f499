using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;

namespace MoqCluster.Protocol.Transport;

/// <summary>RFC 6455 §5 frame layout: opcodes, header encoding for both roles, header decoding and (un)masking.</summary>
internal static class WebSocketFraming
{
    public const byte OpContinuation = 0x0;
    public const byte OpText = 0x1;
    public const byte OpBinary = 0x2;
    public const byte OpClose = 0x8;
    public const byte OpPing = 0x9;
    public const byte OpPong = 0xA;

    private const byte FinBit = 0x80;
    private const byte ReservedBits = 0x70;
    private const byte MaskBit = 0x80;

    /// <summary>Control frames carry at most 125 payload bytes (RFC 6455 §5.5).</summary>
    public const int MaxControlPayload = 125;

    /// <summary>Largest Close reason: a control payload minus the 2-byte status code (RFC 6455 §5.5).</summary>
    public const int MaxCloseReasonBytes = MaxControlPayload - 2;

    /// <summary>Largest header a frame can have: 2 + 8-byte length + 4-byte mask.</summary>
    public const int MaxHeaderSize = 14;

    /// <summary>Size of the mask a client frame header carries.</summary>
    private const int MaskSize = 4;

    /// <summary>Header size of an unmasked server frame carrying <paramref name="payloadLength"/> bytes (≤ 65 535).</summary>
    public static int ServerHeaderSize(int payloadLength) => payloadLength < 126 ? 2 : 4;

    /// <summary>Header size of a masked client frame carrying <paramref name="payloadLength"/> bytes (≤ 65 535).</summary>
    public static int ClientHeaderSize(int payloadLength) => ServerHeaderSize(payloadLength) + MaskSize;

    /// <summary>
    /// Writes a final, unmasked server frame header with the minimal length encoding (browsers reject others) and
    /// returns its size. Our frames never exceed 65 535 bytes, so the 8-byte form is never needed.
    /// </summary>
    public static int WriteServerHeader(Span<byte> destination, byte opcode, int payloadLength)
    {
        destination[0] = (byte)(FinBit | opcode);
        if (payloadLength < 126)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }

        destination[1] = 126;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], checked((ushort)payloadLength));
        return 4;
    }

    /// <summary>
    /// Writes a final client frame header (minimal length encoding, MASK set, then the key) and returns its size; the
    /// payload must then be masked with <see cref="Unmask"/> and the same <paramref name="mask"/> (XOR is its own inverse).
    /// </summary>
    /// <param name="destination">Room for <see cref="ClientHeaderSize"/> bytes.</param>
    /// <param name="opcode">The frame's opcode.</param>
    /// <param name="payloadLength">At most 65 535 bytes.</param>
    /// <param name="mask">The masking key, written in the layout <see cref="Unmask"/> reads (little-endian).</param>
    public static int WriteClientHeader(Span<byte> destination, byte opcode, int payloadLength, uint mask)
    {
        var size = WriteServerHeader(destination, opcode, payloadLength);
        destination[1] |= MaskBit;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[size..], mask);
        return size + MaskSize;
    }

    /// <summary>A decoded frame header.</summary>
    /// <param name="Fin">The final fragment of its message.</param>
    /// <param name="Opcode">The 4-bit opcode.</param>
    /// <param name="Reserved">Any of RSV1-3 set (no extension is negotiated, so that is an error).</param>
    /// <param name="Masked">The MASK bit (clients must set it, servers must not).</param>
    /// <param name="PayloadLength">The declared payload length; may be huge (up to 2^63 - 1).</param>
    /// <param name="Mask">The masking key as it appears on the wire, read little-endian (see <see cref="Unmask"/>); 0 when unmasked.</param>
    /// <param name="HeaderSize">Bytes the header occupied.</param>
    public readonly record struct WireHeader(bool Fin, byte Opcode, bool Reserved, bool Masked, long PayloadLength, uint Mask, int HeaderSize);

    /// <summary>
    /// Decodes a frame header from the start of <paramref name="buffer"/>. False when more bytes are needed;
    /// <paramref name="oversizedLength"/> is set when a 64-bit length has its top bit set (RFC 6455 §5.2 forbids it).
    /// </summary>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, out WireHeader header, out bool oversizedLength)
    {
        if (buffer.FirstSpan.Length >= MaxHeaderSize || buffer.IsSingleSegment)
        {
            return TryReadHeader(buffer.FirstSpan, out header, out oversizedLength);
        }

        Span<byte> bytes = stackalloc byte[MaxHeaderSize];
        var available = (int)Math.Min(buffer.Length, MaxHeaderSize);
        buffer.Slice(0, available).CopyTo(bytes);
        return TryReadHeader(bytes[..available], out header, out oversizedLength);
    }

    /// <inheritdoc cref="TryReadHeader(in ReadOnlySequence{byte}, out WireHeader, out bool)"/>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, out WireHeader header, out bool oversizedLength)
    {
        header = default;
        oversizedLength = false;
        if (bytes.Length < 2)
        {
            return false;
        }

        var masked = (bytes[1] & MaskBit) != 0;
        var length7 = bytes[1] & 0x7F;
        var size = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? MaskSize : 0);
        if (bytes.Length < size)
        {
            return false;
        }

        long length = length7;
        var offset = 2;
        if (length7 == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
            offset = 4;
        }
        else if (length7 == 127)
        {
            var wide = BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
            if (wide > long.MaxValue)
            {
                oversizedLength = true;
                wide = 0;
            }

            length = (long)wide;
            offset = 10;
        }

        var mask = masked ? BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]) : 0;
        header = new WireHeader(
            (bytes[0] & FinBit) != 0, (byte)(bytes[0] & 0x0F), (bytes[0] & ReservedBits) != 0, masked, length, mask, size);
        return true;
    }

    /// <summary>True for the opcodes RFC 6455 defines; the others are reserved and fatal.</summary>
    public static bool IsKnownOpcode(byte opcode) => opcode is OpContinuation or OpText or OpBinary or OpClose or OpPing or OpPong;

    /// <summary>True for Close, Ping and Pong.</summary>
    public static bool IsControl(byte opcode) => (opcode & 0x8) != 0;

    /// <summary>
    /// Copies payload bytes XOR-ing them with the masking key, which masks and unmasks alike; returns the key offset for
    /// the next chunk of the same frame.
    /// </summary>
    /// <param name="source">Masked bytes as received, or bytes to mask.</param>
    /// <param name="destination">At least as long as <paramref name="source"/>; may be <paramref name="source"/> itself (in place).</param>
    /// <param name="mask">The key's four wire bytes read little-endian, so byte <c>i</c> of the key is <c>mask &gt;&gt; 8i</c>.</param>
    /// <param name="maskOffset">How many payload bytes of this frame came before <paramref name="source"/> (mod 4).</param>
    public static int Unmask(ReadOnlySpan<byte> source, Span<byte> destination, uint mask, int maskOffset)
    {
        // Rotate so the key lines up with the first source byte; then every 4-byte (and vector) block uses the same key.
        var rotated = BitOperations.RotateRight(mask, 8 * (maskOffset & 3));
        var i = 0;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian && source.Length >= Vector<byte>.Count)
        {
            // Lanes of a little-endian uint repeat the key bytes in wire order.
            var key = Vector.AsVectorByte(new Vector<uint>(rotated));
            var last = source.Length - Vector<byte>.Count;
            for (; i <= last; i += Vector<byte>.Count)
            {
                (new Vector<byte>(source[i..]) ^ key).CopyTo(destination[i..]);
            }
        }

        for (; i + 4 <= source.Length; i += 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[i..], BinaryPrimitives.ReadUInt32LittleEndian(source[i..]) ^ rotated);
        }

        for (; i < source.Length; i++)
        {
            destination[i] = (byte)(source[i] ^ (byte)(rotated >> (8 * (i & 3))));
        }

        return (maskOffset + source.Length) & 3;
    }
}
