using System.Buffers;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A FIFO of bytes held in pooled chunks: the send queue and the receive queue of a QMux stream.
/// Small appends fill the tail chunk, so the many tiny writes browser clients make cost no allocation.
/// Not thread-safe; the owning connection's lock guards it.
/// </summary>
internal sealed class StreamBuffer
{
    private const int MinChunk = 4096;
    private const int MaxChunk = 16 * 1024;

    private readonly Queue<Chunk> _chunks = new();
    private Chunk? _tail;

    /// <summary>Bytes queued.</summary>
    public long Length { get; private set; }

    /// <summary>Appends a copy of <paramref name="data"/>.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_tail is null || _tail.End == _tail.Array.Length)
            {
                _tail = new Chunk(ArrayPool<byte>.Shared.Rent(Math.Clamp(data.Length, MinChunk, MaxChunk)));
                _chunks.Enqueue(_tail);
            }
            int n = Math.Min(data.Length, _tail.Array.Length - _tail.End);
            data[..n].CopyTo(_tail.Array.AsSpan(_tail.End));
            _tail.End += n;
            Length += n;
            data = data[n..];
        }
    }

    /// <summary>Moves up to <c>destination.Length</c> bytes out of the queue; returns the count.</summary>
    public int Read(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length && _chunks.TryPeek(out var chunk))
        {
            int n = Math.Min(destination.Length - total, chunk.End - chunk.Start);
            chunk.Array.AsSpan(chunk.Start, n).CopyTo(destination[total..]);
            chunk.Start += n;
            total += n;
            if (chunk.Start == chunk.End)
                Release(_chunks.Dequeue());
        }
        Length -= total;
        return total;
    }

    /// <summary>Drops everything and returns the chunks to the pool.</summary>
    public void Clear()
    {
        while (_chunks.TryDequeue(out var chunk))
            ArrayPool<byte>.Shared.Return(chunk.Array);
        _tail = null;
        Length = 0;
    }

    private void Release(Chunk chunk)
    {
        if (ReferenceEquals(chunk, _tail))
            _tail = null;
        ArrayPool<byte>.Shared.Return(chunk.Array);
    }

    private sealed class Chunk(byte[] array)
    {
        public byte[] Array { get; } = array;
        public int Start { get; set; }
        public int End { get; set; }
    }
}
