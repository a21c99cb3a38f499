using System.Buffers;
using System.Threading.Channels;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// One end of an in-process record channel pair, for tests: records are copied into pooled arrays
/// and handed to the other end through a bounded queue (so a slow reader pushes back on the sender).
/// Each direction has its own pool sized for the queue, so a full queue never spills into the shared
/// pool and allocates: benchmarks over this channel see the relay's allocations, not the channel's.
/// </summary>
public sealed class InMemoryRecordChannel : IRecordChannel
{
    private readonly Channel<(byte[] Array, int Length)> _incoming;
    private readonly Channel<(byte[] Array, int Length)> _outgoing;
    private readonly ArrayPool<byte> _incomingPool;
    private readonly ArrayPool<byte> _outgoingPool;
    private byte[]? _current;
    private int _disposed;

    private InMemoryRecordChannel(Channel<(byte[], int)> incoming, ArrayPool<byte> incomingPool,
        Channel<(byte[], int)> outgoing, ArrayPool<byte> outgoingPool, int maxRecordSize)
    {
        _incoming = incoming;
        _incomingPool = incomingPool;
        _outgoing = outgoing;
        _outgoingPool = outgoingPool;
        MaxRecordSize = maxRecordSize;
    }

    /// <summary>Creates two connected ends.</summary>
    /// <param name="maxRecordSize">Largest record either end may send.</param>
    /// <param name="capacity">Records in flight per direction before <see cref="SendAsync"/> waits.</param>
    public static (InMemoryRecordChannel A, InMemoryRecordChannel B) CreatePair(int maxRecordSize = 16384, int capacity = 64)
    {
        var options = new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true };
        var aToB = Channel.CreateBounded<(byte[], int)>(options);
        var bToA = Channel.CreateBounded<(byte[], int)>(options);
        // Queued records, one being received and one being filled per direction.
        var aToBPool = ArrayPool<byte>.Create(Math.Max(maxRecordSize, 1), capacity + 2);
        var bToAPool = ArrayPool<byte>.Create(Math.Max(maxRecordSize, 1), capacity + 2);
        return (new InMemoryRecordChannel(bToA, bToAPool, aToB, aToBPool, maxRecordSize),
            new InMemoryRecordChannel(aToB, aToBPool, bToA, bToAPool, maxRecordSize));
    }

    /// <inheritdoc />
    public int MaxRecordSize { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The record exceeds <see cref="MaxRecordSize"/> (a sender bug).</exception>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
            throw new ArgumentException($"record of {record.Length} bytes exceeds {MaxRecordSize}", nameof(record));
        var copy = _outgoingPool.Rent(Math.Max(record.Length, 1));
        record.CopyTo(copy);
        try
        {
            await _outgoing.Writer.WriteAsync((copy, record.Length), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            _outgoingPool.Return(copy);
            throw new ConnectionClosedException(0, "in-memory channel closed");
        }
    }

    /// <inheritdoc />
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_current is not null)
        {
            _incomingPool.Return(_current);
            _current = null;
        }
        while (Volatile.Read(ref _disposed) == 0 && await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_incoming.Reader.TryRead(out var item))
            {
                _current = item.Array;
                return item.Array.AsMemory(0, item.Length);
            }
        }
        return null;
    }

    /// <summary>Ends our direction: the other end receives null after the records already sent.</summary>
    public ValueTask CloseAsync(ulong code, string reason)
    {
        _outgoing.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends both directions.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _outgoing.Writer.TryComplete();
            _incoming.Writer.TryComplete();
        }
        return ValueTask.CompletedTask;
    }
}
