using System.Buffers;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A FIFO of bytes held in pooled chunks: the send queue and the receive queue of a QMux stream.
/// Small appends fill the tail chunk, so the many tiny writes browser clients make cost no allocation.
/// Large immutable payloads (media frames shared by every subscriber) can be queued by reference instead,
/// which saves a copy and a pooled chunk per subscriber. Not thread-safe; the owning connection's lock guards it.
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
            // _tail is only ever a pooled chunk; borrowed memory is never appended to.
            if (_tail?.Array is not { } array || _tail.End == array.Length)
            {
                array = ArrayPool<byte>.Shared.Rent(Math.Clamp(data.Length, MinChunk, MaxChunk));
                _tail = new Chunk(array);
                _chunks.Enqueue(_tail);
            }
            int n = Math.Min(data.Length, array.Length - _tail.End);
            data[..n].CopyTo(array.AsSpan(_tail.End));
            _tail.End += n;
            Length += n;
            data = data[n..];
        }
    }

    /// <summary>
    /// Queues <paramref name="data"/> by reference: the caller guarantees the memory is never written again
    /// (frame payloads in the model are immutable). Later small appends start a new chunk.
    /// </summary>
    public void AppendShared(ReadOnlyMemory<byte> data)
    {
        if (data.IsEmpty)
            return;
        _chunks.Enqueue(new Chunk(data));
        _tail = null;
        Length += data.Length;
    }

    /// <summary>Moves up to <c>destination.Length</c> bytes out of the queue; returns the count.</summary>
    public int Read(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length && _chunks.TryPeek(out var chunk))
        {
            int n = Math.Min(destination.Length - total, chunk.End - chunk.Start);
            chunk.Span.Slice(chunk.Start, n).CopyTo(destination[total..]);
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
            chunk.Return();
        _tail = null;
        Length = 0;
    }

    private void Release(Chunk chunk)
    {
        if (ReferenceEquals(chunk, _tail))
            _tail = null;
        chunk.Return();
    }

    /// <summary>Either a pooled array we fill, or borrowed read-only memory queued whole.</summary>
    private sealed class Chunk
    {
        public Chunk(byte[] array)
        {
            Array = array;
            Shared = array;
        }

        public Chunk(ReadOnlyMemory<byte> shared)
        {
            Shared = shared;
            End = shared.Length;
        }

        /// <summary>The pooled array, or null for borrowed memory.</summary>
        public byte[]? Array { get; }

        private ReadOnlyMemory<byte> Shared { get; }

        public ReadOnlySpan<byte> Span => Shared.Span;
        public int Start { get; set; }
        public int End { get; set; }

        public void Return()
        {
            if (Array is not null)
                ArrayPool<byte>.Shared.Return(Array);
        }
    }
}
