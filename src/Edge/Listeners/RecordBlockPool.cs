using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace MoqCluster.Edge.Listeners;

/// <summary>
/// Kestrel's memory pool on an edge: pinned blocks of <see cref="BlockSize"/> bytes instead of Kestrel's 4 KiB, so a
/// whole WebSocket record window (a QMux record of up to 16 KiB and its frame header) is composed straight into the
/// connection's output pipe.
/// </summary>
/// <remarks>
/// With 4 KiB blocks the WebSocket channel composes every larger window in a buffer of its own and copies it into the
/// pipe: one more copy of every delivered byte (7 % of the relay's CPU on 1 → 100, 16 KB frames). Blocks are taken only
/// while a connection reads or writes (Kestrel waits for data before it takes one to read into, and a flushed output
/// gives its blocks back), so an idle session holds none. At most <see cref="MaxRetained"/> free blocks are kept; more
/// go back to the collector.
/// </remarks>
internal sealed class RecordBlockPool : MemoryPool<byte>
{
    /// <summary>Bytes per block: a 16 KiB record, its header, and room to batch small records behind it.</summary>
    public const int BlockSize = 32 * 1024;

    /// <summary>Free blocks kept for reuse (32 MiB); a burst beyond that allocates, and the extra blocks are collected.</summary>
    public const int MaxRetained = 1024;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private int _disposed;

    /// <inheritdoc />
    public override int MaxBufferSize => BlockSize;

    /// <summary>Free blocks held right now.</summary>
    public int Retained => Volatile.Read(ref _freeCount);

    /// <inheritdoc />
    /// <remarks>A request above <see cref="BlockSize"/> (pipes never make one) gets an unpooled buffer of its size.</remarks>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (minBufferSize > BlockSize)
            return new Block(null, minBufferSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented = 1;
            return block;
        }
        return new Block(this, BlockSize);
    }

    private void Return(Block block)
    {
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Increment(ref _freeCount) > MaxRetained)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Enqueue(block);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _free.Clear();
    }

    /// <summary>One pinned block; disposing it gives it back to its pool, once.</summary>
    private sealed class Block(RecordBlockPool? pool, int size) : IMemoryOwner<byte>
    {
        // Pinned (on the pinned object heap) so socket I/O never pins it per operation, as Kestrel's own blocks are.
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(size, pinned: true);

        internal int Rented = 1;

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref Rented, 0) == 1)
                pool?.Return(this);
        }
    }

    /// <summary>Makes Kestrel's connections use this pool: Kestrel asks the container for an <see cref="IMemoryPoolFactory{T}"/>.</summary>
    public static IServiceCollection UseForKestrel(IServiceCollection services) =>
        services.AddSingleton<IMemoryPoolFactory<byte>, Factory>();

    /// <summary>Creates a pool for each of Kestrel's owners (transport, server), as its default factory does.</summary>
    private sealed class Factory : IMemoryPoolFactory<byte>
    {
        /// <inheritdoc />
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new RecordBlockPool();
    }
}
