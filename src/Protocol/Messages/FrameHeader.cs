using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// The header before each frame payload on a Group stream (spec §4.9): lite-01…04 <c>Size (i)</c>;
/// lite-05 <c>Timestamp Delta (i, zigzag)</c> then <c>Size (i)</c>. Read and written directly on
/// spans so the per-frame path never allocates.
/// </summary>
/// <param name="Size">Payload length in bytes.</param>
/// <param name="TimestampDelta">lite-05: signed delta from the previous frame's timestamp (the first frame's is absolute); ignored before lite-05.</param>
public readonly record struct FrameHeader(int Size, long TimestampDelta = 0)
{
    /// <summary>Largest encoded header: two 8-byte varints.</summary>
    public const int MaxEncodedSize = 16;

    /// <summary>Encoded size of this header in <paramref name="version"/>.</summary>
    public int EncodedSize(MoqVersion version)
        => VarInt.SizeOf((ulong)Size) + (version.HasTrackInfo() ? VarInt.SizeOf(VarInt.ZigZagEncode(TimestampDelta)) : 0);

    /// <summary>Writes the header into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is smaller than <see cref="EncodedSize"/>.</exception>
    /// <exception cref="ProtocolException">A negative size, or a delta whose zigzag form exceeds 2^53-1.</exception>
    public int Write(Span<byte> destination, MoqVersion version)
    {
        if (Size < 0)
            throw new ProtocolException(MoqErrorCode.Encode, $"negative frame size {Size}");
        if (destination.Length < EncodedSize(version))
            throw new ArgumentException("destination too small for the frame header", nameof(destination));
        var n = 0;
        if (version.HasTrackInfo())
        {
            var zigzag = VarInt.ZigZagEncode(TimestampDelta);
            if (zigzag > VarInt.MaxSafeInteger)
                throw new ProtocolException(MoqErrorCode.Encode, $"timestamp delta {TimestampDelta} too large for JavaScript peers");
            n = VarInt.Write(destination, zigzag);
        }
        return n + VarInt.Write(destination[n..], (ulong)Size);
    }

    /// <summary>
    /// Reads a header from the start of <paramref name="source"/>. Returns false when more bytes are
    /// needed (nothing consumed).
    /// </summary>
    /// <exception cref="DecodeException">The size exceeds <see cref="ProtocolLimits.MaxFrameSize"/> (<see cref="MoqErrorCode.BoundsExceeded"/>).</exception>
    public static bool TryRead(ReadOnlySpan<byte> source, MoqVersion version, ProtocolLimits limits, out FrameHeader header, out int consumed)
    {
        header = default;
        consumed = 0;
        long delta = 0;
        var n = 0;
        if (version.HasTrackInfo())
        {
            if (!VarInt.TryRead(source, out var zigzag, out n))
                return false;
            delta = VarInt.ZigZagDecode(zigzag);
        }
        if (!VarInt.TryRead(source[n..], out var size, out var sizeLength))
            return false;
        if (size > (ulong)limits.MaxFrameSize)
            throw new DecodeException($"frame of {size} bytes exceeds limit {limits.MaxFrameSize}", MoqErrorCode.BoundsExceeded);
        header = new FrameHeader((int)size, delta);
        consumed = n + sizeLength;
        return true;
    }
}
