using System.Buffers.Binary;
using System.Text;

namespace MoqCluster.Protocol.Coding;

/// <summary>
/// Reads moq-lite primitives from one complete message body held in memory. Every read is
/// bounds-checked and throws <see cref="DecodeException"/> on truncation or malformed input.
/// </summary>
public ref struct MessageReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    /// <summary>Reads from <paramref name="buffer"/> with the given limits.</summary>
    public MessageReader(ReadOnlySpan<byte> buffer, ProtocolLimits? limits = null)
    {
        _buffer = buffer;
        _position = 0;
        Limits = limits ?? ProtocolLimits.Default;
    }

    /// <summary>The bounds applied to strings, paths and counts.</summary>
    public ProtocolLimits Limits { get; }

    /// <summary>Bytes not yet read.</summary>
    public readonly int Remaining => _buffer.Length - _position;

    /// <summary>Bytes read so far.</summary>
    public readonly int Position => _position;

    /// <summary>Reads a varint.</summary>
    public ulong ReadVarInt()
    {
        if (!VarInt.TryRead(_buffer[_position..], out var value, out var consumed))
            throw new DecodeException("truncated varint");
        _position += consumed;
        return value;
    }

    /// <summary>Reads a varint that must fit an <see cref="int"/> and be at most <paramref name="max"/>.</summary>
    public int ReadCount(int max, string what)
    {
        var value = ReadVarInt();
        if (value > (ulong)max)
            throw new DecodeException($"{what} {value} exceeds limit {max}", MoqErrorCode.BoundsExceeded);
        return (int)value;
    }

    /// <summary>Reads one raw byte.</summary>
    public byte ReadU8()
    {
        if (_position >= _buffer.Length)
            throw new DecodeException("truncated byte");
        return _buffer[_position++];
    }

    /// <summary>Reads a boolean byte; only 0 and 1 are valid, as the JavaScript decoders require.</summary>
    public bool ReadBool() => ReadU8() switch
    {
        0 => false,
        1 => true,
        var b => throw new DecodeException($"invalid boolean byte {b}"),
    };

    /// <summary>Reads a big-endian u16 (legacy SETUP length).</summary>
    public ushort ReadU16()
    {
        var bytes = ReadBytes(2);
        return BinaryPrimitives.ReadUInt16BigEndian(bytes);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > Remaining)
            throw new DecodeException($"truncated: need {count} bytes, have {Remaining}");
        var slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    /// <summary>
    /// Reads a <c>Length (i)</c> and that many bytes. The claimed length is checked against the
    /// remaining input before anything is sliced, so a huge claim fails without allocating.
    /// </summary>
    public ReadOnlySpan<byte> ReadSizedBytes()
    {
        var length = ReadVarInt();
        if (length > (ulong)Remaining)
            throw new DecodeException($"truncated: length {length} exceeds the {Remaining} bytes left");
        return ReadBytes((int)length);
    }

    /// <summary>Reads everything that is left.</summary>
    public ReadOnlySpan<byte> ReadRest() => ReadBytes(Remaining);

    /// <summary>Reads a length-prefixed strict UTF-8 string bounded by <see cref="ProtocolLimits.MaxStringLength"/>.</summary>
    public string ReadString()
    {
        var length = ReadCount(Limits.MaxStringLength, "string length");
        return ReadUtf8(length);
    }

    /// <summary>
    /// Reads <paramref name="count"/> bytes as strict UTF-8 (no length prefix), bounded by
    /// <see cref="ProtocolLimits.MaxStringLength"/>; used where the length comes from an enclosing field.
    /// </summary>
    public string ReadUtf8(int count)
    {
        if (count > Limits.MaxStringLength)
            throw new DecodeException($"string of {count} bytes exceeds limit {Limits.MaxStringLength}", MoqErrorCode.BoundsExceeded);
        var bytes = ReadBytes(count);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new DecodeException("invalid UTF-8 in string");
        }
    }

    /// <summary>Reads a path and normalises it (spec §5.2), enforcing the segment limit.</summary>
    public MoqPath ReadPath()
    {
        var path = MoqPath.Parse(ReadString());
        if (path.SegmentCount > Limits.MaxPathSegments)
            throw new DecodeException($"path has {path.SegmentCount} segments (limit {Limits.MaxPathSegments})", MoqErrorCode.BoundsExceeded);
        return path;
    }

    /// <summary>Reads an optional group sequence: 0 = absent, otherwise sequence + 1.</summary>
    public ulong? ReadOptionalGroup()
    {
        var value = ReadVarInt();
        return value == 0 ? null : value - 1;
    }

    /// <summary>Throws unless every byte was consumed: both JS decoders and Rust reject trailing bytes.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
            throw new DecodeException($"{Remaining} trailing bytes after message");
    }
}
