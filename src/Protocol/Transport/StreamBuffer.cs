using System.Buffers;
using System.Runtime.CompilerServices;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A FIFO of bytes held in pooled chunks: the send queue and the receive queue of a QMux stream.
/// Small appends fill the tail chunk, so the many tiny writes browser clients make cost no allocation.
/// Large immutable payloads (media frames shared by every subscriber) can be queued by reference instead,
/// with a short header carried inline, which saves a copy and a pooled chunk per subscriber. A lone chunk lives
/// in the buffer itself; more go to a pooled ring, rented while they are queued and returned when the queue
/// drains, so an idle or finished stream holds nothing but that one slot. Not thread-safe; the owning
/// connection's lock guards it.
/// </summary>
/// <remarks>
/// The inline slot matters on the receive side of a fan-out: a subscriber's stream usually holds one chunk between
/// the connection's reader and the stream's reader, and a hundred sessions receiving the same frame at once would
/// otherwise rent a hundred rings together, more than the shared pool keeps, so most were allocated anew.
/// </remarks>
internal sealed class StreamBuffer
{
    private const int MinChunk = 4096;
    private const int MaxChunk = 16 * 1024;
    private const int InitialRing = 8;

    /// <summary>Largest header queued inline in front of shared memory.</summary>
    public const int MaxInlinePrefix = 16;

    /// <summary>
    /// Rings for queues of more than one chunk. A fan-out burst queues frames by reference to every subscriber at once,
    /// so hundreds of rings are out together: far more than the shared pool keeps per size (it would allocate them
    /// anew each burst). Rings up to <see cref="MaxPooledRing"/> chunks are kept, up to 1024 of each size.
    /// </summary>
    private static readonly ArrayPool<Chunk> RingPool = ArrayPool<Chunk>.Create(MaxPooledRing, 1024);

    private const int MaxPooledRing = 1024;

    private Chunk[] _ring = [];
    // The owner of the shared memory queued here, holding one hold for every chunk of it (see AppendShared).
    private ISharedPayloadOwner? _owner;
    // The only chunk while no ring is rented.
    private Chunk _single;
    private int _head;
    private int _count;

    /// <summary>Bytes queued.</summary>
    public long Length { get; private set; }

    /// <summary>Appends a copy of <paramref name="data"/>.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            // Only a pooled chunk at the tail is ever appended to; borrowed memory never is.
            if (_count == 0 || Tail.Array is not { } array || Tail.End == array.Length)
            {
                array = PayloadPool.Shared.Rent(Math.Clamp(data.Length, MinChunk, MaxChunk));
                Push(new Chunk { Array = array });
            }
            ref var tail = ref Tail;
            int n = Math.Min(data.Length, array.Length - tail.End);
            data[..n].CopyTo(array.AsSpan(tail.End));
            tail.End += n;
            Length += n;
            data = data[n..];
        }
    }

    /// <summary>
    /// Queues <paramref name="prefix"/> (copied, at most <see cref="MaxInlinePrefix"/> bytes) followed by
    /// <paramref name="data"/> by reference: the caller guarantees the memory is never written again while queued
    /// (frame payloads in the model are immutable).
    /// </summary>
    /// <param name="prefix">A short header sent before the data, e.g. a frame's size.</param>
    /// <param name="data">The bytes.</param>
    /// <param name="owner">
    /// Holds the memory from now until <see cref="ReleaseOwner"/>, <see cref="Clear"/> or the first shared append of
    /// another owner; null for memory nobody reuses. One hold covers every chunk of the same owner: a group stream
    /// queues all its frames from one group, and a hold taken and dropped per frame cost two lock round trips per frame
    /// and subscriber.
    /// </param>
    public void AppendShared(ReadOnlySpan<byte> prefix, ReadOnlyMemory<byte> data, ISharedPayloadOwner? owner = null)
    {
        if (prefix.Length > MaxInlinePrefix)
            throw new ArgumentOutOfRangeException(nameof(prefix), prefix.Length, $"inline prefix over {MaxInlinePrefix} bytes");
        if (data.IsEmpty)
        {
            Append(prefix);
            return;
        }
        if (owner is not null && owner != _owner)
        {
            // The previous owner's chunks are all at or before the tail: its hold goes with the tail chunk, or now when
            // nothing is queued.
            if (_owner is not null && _count > 0)
                Tail.Owner = _owner;
            else
                ReleaseOwner();
            owner.AddHold();
            _owner = owner;
        }
        var chunk = new Chunk { Shared = data, PrefixLength = prefix.Length, End = prefix.Length + data.Length };
        prefix.CopyTo(chunk.Prefix);
        Push(chunk);
        Length += chunk.End;
    }

    /// <summary>Queues <paramref name="data"/> by reference (see <see cref="AppendShared(ReadOnlySpan{byte}, ReadOnlyMemory{byte}, ISharedPayloadOwner?)"/>).</summary>
    public void AppendShared(ReadOnlyMemory<byte> data, ISharedPayloadOwner? owner = null) => AppendShared([], data, owner);

    /// <summary>Moves up to <c>destination.Length</c> bytes out of the queue; returns the count.</summary>
    public int Read(Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length && _count > 0)
        {
            ref var chunk = ref Head;
            total += chunk.CopyTo(destination[total..]);
            if (chunk.Start == chunk.End)
                Pop();
        }
        Length -= total;
        if (_count == 0)
            ReturnRing();
        return total;
    }

    /// <summary>Drops everything, returns the chunks to the pool and lets the owner's hold go.</summary>
    public void Clear()
    {
        while (_count > 0)
            Pop();
        Length = 0;
        ReturnRing();
        ReleaseOwner();
    }

    /// <summary>
    /// Lets the hold on the shared memory's owner go: once the stream will queue nothing more and what it queued has
    /// been read (its send side is done). Idempotent.
    /// </summary>
    public void ReleaseOwner()
    {
        var owner = _owner;
        _owner = null;
        owner?.ReleaseHold();
    }

    private ref Chunk Tail => ref _ring.Length == 0 ? ref _single : ref _ring[(_head + _count - 1) % _ring.Length];

    private ref Chunk Head => ref _ring.Length == 0 ? ref _single : ref _ring[_head];

    private void Push(in Chunk chunk)
    {
        if (_ring.Length == 0 && _count == 0)
        {
            _single = chunk;
            _count = 1;
            return;
        }
        if (_count == _ring.Length || _ring.Length == 0)
        {
            var grown = RingPool.Rent(Math.Max(InitialRing, _ring.Length * 2));
            if (_ring.Length == 0)
            {
                // The second chunk: the lone one moves into the ring.
                grown[0] = _single;
                _single = default;
            }
            else
            {
                for (int i = 0; i < _count; i++)
                    grown[i] = _ring[(_head + i) % _ring.Length];
                RingPool.Return(_ring, clearArray: true);
            }
            _ring = grown;
            _head = 0;
        }
        _ring[(_head + _count) % _ring.Length] = chunk;
        _count++;
    }

    /// <summary>Removes the head chunk, giving back its pooled array, and the hold it carries for an earlier owner (exactly once).</summary>
    private void Pop()
    {
        ref var chunk = ref Head;
        if (chunk.Array is { } array)
            PayloadPool.Shared.Return(array);
        var owner = chunk.Owner;
        chunk = default;
        if (_ring.Length > 0)
            _head = (_head + 1) % _ring.Length;
        _count--;
        owner?.ReleaseHold();
    }

    private void ReturnRing()
    {
        if (_ring.Length == 0)
            return;
        // Every slot was cleared by Pop, so the pool keeps no references.
        RingPool.Return(_ring);
        _ring = [];
        _head = 0;
    }

    /// <summary>Inline room for a frame header queued with shared memory.</summary>
    [InlineArray(MaxInlinePrefix)]
    private struct PrefixBytes
    {
        private byte _element;
    }

    /// <summary>Either a pooled array we fill, or an inline prefix plus borrowed read-only memory queued whole.</summary>
    private struct Chunk
    {
        /// <summary>The pooled array, or null for borrowed memory.</summary>
        public byte[]? Array;
        public ReadOnlyMemory<byte> Shared;
        /// <summary>An earlier owner whose hold is let go when this chunk, the last queued under it, has been read.</summary>
        public ISharedPayloadOwner? Owner;
        public PrefixBytes Prefix;
        public int PrefixLength;

        /// <summary>Read position; for borrowed memory it counts the prefix first.</summary>
        public int Start;
        public int End;

        /// <summary>Copies from <see cref="Start"/> on into <paramref name="destination"/>; returns the count.</summary>
        public int CopyTo(Span<byte> destination)
        {
            int n = Math.Min(destination.Length, End - Start);
            if (Array is not null)
            {
                Array.AsSpan(Start, n).CopyTo(destination);
            }
            else
            {
                int fromPrefix = Math.Max(0, Math.Min(n, PrefixLength - Start));
                if (fromPrefix > 0)
                    ((ReadOnlySpan<byte>)Prefix).Slice(Start, fromPrefix).CopyTo(destination);
                int dataStart = Math.Max(0, Start - PrefixLength);
                Shared.Span.Slice(dataStart, n - fromPrefix).CopyTo(destination[fromPrefix..]);
            }
            Start += n;
            return n;
        }
    }
}
