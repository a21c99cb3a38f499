using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace MoqCluster.Protocol.Coding;

/// <summary>
/// A growable, pooled buffer that encodes moq-lite primitives. Reuse one instance per stream
/// (call <see cref="Reset"/>) so steady-state encoding allocates nothing.
/// </summary>
public sealed class MessageWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;

    /// <summary>Creates a writer with an initial capacity from the shared pool.</summary>
    public MessageWriter(int initialCapacity = 256) => _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The encoded bytes.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>The encoded bytes as memory (valid until the next write or reset).</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    /// <summary>Forgets the content, keeping the buffer.</summary>
    public void Reset() => _length = 0;

    /// <summary>Copies the content into a new array.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <inheritdoc />
    public void Advance(int count) => _length += count;

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_length);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(_length);
    }

    /// <summary>Writes a varint.</summary>
    public void WriteVarInt(ulong value)
    {
        Ensure(8);
        _length += VarInt.Write(_buffer.AsSpan(_length), value);
    }

    /// <summary>Writes a non-negative <see cref="long"/> as a varint.</summary>
    public void WriteVarInt(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        WriteVarInt((ulong)value);
    }

    /// <summary>
    /// Writes a varint that the JavaScript clients decode as a u53 (group sequences, counts, hop ids,
    /// durations). Values of 2^53 or more would make them fail the stream, so they are refused here.
    /// </summary>
    public void WriteU53(ulong value)
    {
        if (value > VarInt.MaxSafeInteger)
            throw new ProtocolException(MoqErrorCode.Encode, $"value {value} exceeds 2^53-1, which JavaScript peers cannot read");
        WriteVarInt(value);
    }

    /// <summary>Writes an optional group sequence (0 = absent, else sequence + 1) that must stay below 2^53.</summary>
    public void WriteOptionalGroupU53(ulong? sequence)
    {
        if (sequence is { } s && s >= VarInt.MaxSafeInteger)
            throw new ProtocolException(MoqErrorCode.Encode, $"group sequence {s} too large for JavaScript peers");
        WriteOptionalGroup(sequence);
    }

    /// <summary>Writes one raw byte.</summary>
    public void WriteU8(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    /// <summary>Writes a boolean as exactly 0 or 1.</summary>
    public void WriteBool(bool value) => WriteU8(value ? (byte)1 : (byte)0);

    /// <summary>Writes a big-endian u16.</summary>
    public void WriteU16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length), value);
        _length += 2;
    }

    /// <summary>Writes raw bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Writes a varint length and the UTF-8 bytes of <paramref name="value"/>.</summary>
    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteVarInt((ulong)count);
        Ensure(count);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>Writes a path as a string (already normalised).</summary>
    public void WritePath(MoqPath path) => WriteString(path.Value);

    /// <summary>Writes an optional group sequence: 0 = absent, otherwise sequence + 1.</summary>
    public void WriteOptionalGroup(ulong? sequence) => WriteVarInt(sequence is { } s ? s + 1 : 0UL);

    /// <summary>
    /// Starts a varint-length-prefixed section. Pass the returned mark to <see cref="EndLength"/>,
    /// which writes the minimal prefix and shifts the body if needed.
    /// </summary>
    public int BeginLength()
    {
        WriteU8(0);
        return _length;
    }

    /// <summary>Completes a section started by <see cref="BeginLength"/>.</summary>
    public void EndLength(int mark)
    {
        var bodyLength = _length - mark;
        var prefix = VarInt.SizeOf((ulong)bodyLength);
        if (prefix > 1)
        {
            Ensure(prefix - 1);
            Buffer.BlockCopy(_buffer, mark, _buffer, mark + prefix - 1, bodyLength);
            _length += prefix - 1;
        }
        VarInt.Write(_buffer.AsSpan(mark - 1), (ulong)bodyLength);
    }

    /// <summary>Starts a big-endian u16 length-prefixed section (legacy SETUP).</summary>
    public int BeginU16Length()
    {
        WriteU16(0);
        return _length;
    }

    /// <summary>Completes a section started by <see cref="BeginU16Length"/>.</summary>
    public void EndU16Length(int mark)
    {
        var bodyLength = _length - mark;
        if (bodyLength > ushort.MaxValue)
            throw new ProtocolException(MoqErrorCode.Encode, "SETUP payload exceeds 65535 bytes");
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(mark - 2), (ushort)bodyLength);
    }

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length)
            return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + extra));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
