using System.Buffers;
using System.Runtime.CompilerServices;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// One end of an in-process record channel pair, for tests: records are copied into pooled arrays
/// and handed to the other end through a bounded queue (so a slow reader pushes back on the sender).
/// Each direction has its own pool sized for the queue, so a full queue never spills into the shared
/// pool and allocates, and waits park pooled <see cref="AsyncWaiter"/>s: benchmarks over this channel see the
/// relay's allocations, not the channel's.
/// </summary>
public sealed class InMemoryRecordChannel : IRecordChannel
{
    private readonly Pipe _incoming;
    private readonly Pipe _outgoing;
    private byte[]? _current;
    private int _disposed;

    private InMemoryRecordChannel(Pipe incoming, Pipe outgoing, int maxRecordSize)
    {
        _incoming = incoming;
        _outgoing = outgoing;
        MaxRecordSize = maxRecordSize;
    }

    /// <summary>Creates two connected ends.</summary>
    /// <param name="maxRecordSize">Largest record either end may send.</param>
    /// <param name="capacity">Records in flight per direction before <see cref="SendAsync"/> waits.</param>
    public static (InMemoryRecordChannel A, InMemoryRecordChannel B) CreatePair(int maxRecordSize = 16384, int capacity = 64)
    {
        var aToB = new Pipe(maxRecordSize, capacity);
        var bToA = new Pipe(maxRecordSize, capacity);
        return (new InMemoryRecordChannel(bToA, aToB, maxRecordSize), new InMemoryRecordChannel(aToB, bToA, maxRecordSize));
    }

    /// <inheritdoc />
    public int MaxRecordSize { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The record exceeds <see cref="MaxRecordSize"/> (a sender bug).</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
            throw new ArgumentException($"record of {record.Length} bytes exceeds {MaxRecordSize}", nameof(record));
        var copy = _outgoing.Pool.Rent(Math.Max(record.Length, 1));
        record.CopyTo(copy);
        return _outgoing.WriteAsync(copy, record.Length, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_current is not null)
        {
            _incoming.Pool.Return(_current);
            _current = null;
        }
        if (Volatile.Read(ref _disposed) != 0)
            return new ValueTask<ReadOnlyMemory<byte>?>((ReadOnlyMemory<byte>?)null);
        return ReceiveCoreAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>?> ReceiveCoreAsync(CancellationToken cancellationToken)
    {
        if (await _incoming.ReadAsync(cancellationToken).ConfigureAwait(false) is not var (array, length))
            return null;
        _current = array;
        return array.AsMemory(0, length);
    }

    /// <summary>Ends our direction: the other end receives null after the records already sent.</summary>
    public ValueTask CloseAsync(ulong code, string reason)
    {
        _outgoing.Complete();
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends both directions.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _outgoing.Complete();
            _incoming.Complete();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>One direction: a bounded queue of records with at most one parked reader and one parked writer.</summary>
    private sealed class Pipe(int maxRecordSize, int capacity) : IWaiterOwner
    {
        private readonly Lock _lock = new();
        private readonly Queue<(byte[] Array, int Length)> _records = new(capacity);
        private AsyncWaiter? _reader;
        private AsyncWaiter? _writer;
        private bool _completed;

        // Queued records, one being received and one being filled.
        public ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(Math.Max(maxRecordSize, 1), capacity + 2);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask WriteAsync(byte[] array, int length, CancellationToken cancellationToken)
        {
            AsyncWaiter? waiter = null;
            try
            {
                while (true)
                {
                    ValueTask wait;
                    lock (_lock)
                    {
                        if (_completed)
                        {
                            Pool.Return(array);
                            throw new ConnectionClosedException(0, "in-memory channel closed");
                        }
                        if (_records.Count < capacity)
                        {
                            _records.Enqueue((array, length));
                            Wake(ref _reader);
                            return;
                        }
                        waiter ??= AsyncWaiter.Rent();
                        _writer = waiter;
                        wait = waiter.Arm(this, cancellationToken);
                    }
                    try
                    {
                        await wait.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        Pool.Return(array);
                        throw;
                    }
                }
            }
            finally
            {
                if (waiter is not null)
                    AsyncWaiter.Return(waiter);
            }
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<(byte[] Array, int Length)?> ReadAsync(CancellationToken cancellationToken)
        {
            AsyncWaiter? waiter = null;
            try
            {
                while (true)
                {
                    ValueTask wait;
                    lock (_lock)
                    {
                        if (_records.TryDequeue(out var record))
                        {
                            Wake(ref _writer);
                            return record;
                        }
                        if (_completed)
                            return null;
                        waiter ??= AsyncWaiter.Rent();
                        _reader = waiter;
                        wait = waiter.Arm(this, cancellationToken);
                    }
                    await wait.ConfigureAwait(false);
                }
            }
            finally
            {
                if (waiter is not null)
                    AsyncWaiter.Return(waiter);
            }
        }

        /// <summary>No more records: the reader drains what is queued, then sees the end; writers fail.</summary>
        public void Complete()
        {
            lock (_lock)
            {
                _completed = true;
                Wake(ref _reader);
                Wake(ref _writer);
            }
        }

        private static void Wake(ref AsyncWaiter? slot)
        {
            var waiter = slot;
            slot = null;
            waiter?.Wake();
        }

        void IWaiterOwner.Remove(AsyncWaiter waiter)
        {
            lock (_lock)
            {
                if (_reader == waiter)
                    _reader = null;
                if (_writer == waiter)
                    _writer = null;
            }
        }
    }
}
