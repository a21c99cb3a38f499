using System.Buffers;
using System.Threading.Channels;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// One end of an in-process record channel pair, for tests: records are copied into pooled arrays
/// and handed to the other end through a bounded queue (so a slow reader pushes back on the sender).
/// </summary>
public sealed class InMemoryRecordChannel : IRecordChannel
{
    private readonly Channel<(byte[] Array, int Length)> _incoming;
    private readonly Channel<(byte[] Array, int Length)> _outgoing;
    private byte[]? _current;
    private int _disposed;

    private InMemoryRecordChannel(Channel<(byte[], int)> incoming, Channel<(byte[], int)> outgoing, int maxRecordSize)
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
        var options = new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true };
        var aToB = Channel.CreateBounded<(byte[], int)>(options);
        var bToA = Channel.CreateBounded<(byte[], int)>(options);
        return (new InMemoryRecordChannel(bToA, aToB, maxRecordSize), new InMemoryRecordChannel(aToB, bToA, maxRecordSize));
    }

    /// <inheritdoc />
    public int MaxRecordSize { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The record exceeds <see cref="MaxRecordSize"/> (a sender bug).</exception>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
            throw new ArgumentException($"record of {record.Length} bytes exceeds {MaxRecordSize}", nameof(record));
        var copy = ArrayPool<byte>.Shared.Rent(Math.Max(record.Length, 1));
        record.CopyTo(copy);
        try
        {
            await _outgoing.Writer.WriteAsync((copy, record.Length), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            ArrayPool<byte>.Shared.Return(copy);
            throw new ConnectionClosedException(0, "in-memory channel closed");
        }
    }

    /// <inheritdoc />
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_current is not null)
        {
            ArrayPool<byte>.Shared.Return(_current);
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
