using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Records over a TCP byte stream: each record is preceded by its length as a QUIC varint (the
/// qmux-01 record layer). Records longer than <see cref="MaxRecordSize"/> are refused in both directions.
/// </summary>
/// <remarks>
/// Outgoing records are batched (<see cref="IRecordBatchWriter"/>): composed in place behind a 4-byte length prefix
/// (QUIC varints need not be minimal, RFC 9000 §16, so the prefix never moves the record) and sent with one write per
/// flush. The output buffer is pooled and returned after each flush, so an idle channel holds none.
/// </remarks>
public sealed class TcpRecordChannel : IRecordChannel, IRecordBatchWriter
{
    /// <summary>Bytes of the length prefix written in front of every outgoing record.</summary>
    private const int PrefixSize = 4;

    /// <summary>Default record cap: 64 KiB.</summary>
    public const int DefaultMaxRecordSize = 64 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _receiveBuffer;
    private int _start;
    private int _end;
    private int _shutdown;
    private byte[] _output = [];
    private int _pending;

    /// <summary>Wraps a connected socket; the channel owns it.</summary>
    /// <param name="socket">A connected TCP socket.</param>
    /// <param name="maxRecordSize">Largest record sent or accepted.</param>
    public TcpRecordChannel(Socket socket, int maxRecordSize = DefaultMaxRecordSize)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordSize, 64);
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        MaxRecordSize = maxRecordSize;
        // Room for one whole record and its prefix, plus slack so one read can carry several small records.
        _receiveBuffer = new byte[maxRecordSize + 8 + 16 * 1024];
    }

    /// <inheritdoc />
    public int MaxRecordSize { get; }

    /// <inheritdoc />
    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
            throw new ArgumentException($"record of {record.Length} bytes exceeds {MaxRecordSize}", nameof(record));
        record.Span.CopyTo(GetRecordSpan(record.Length));
        CommitRecord(record.Length);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public int PendingBytes => _pending;

    /// <inheritdoc />
    public Span<byte> GetRecordSpan(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, MaxRecordSize);
        int needed = _pending + PrefixSize + maxLength;
        if (_output.Length < needed)
        {
            // First record of a batch, or a batch outgrowing its buffer: rent (at least 128 KiB, the usual batch).
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 128 * 1024));
            _output.AsSpan(0, _pending).CopyTo(grown);
            ReturnOutput();
            _output = grown;
        }
        return _output.AsSpan(_pending + PrefixSize, maxLength);
    }

    /// <inheritdoc />
    public void CommitRecord(int length)
    {
        if (length == 0)
            return;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxRecordSize);
        BinaryPrimitives.WriteUInt32BigEndian(_output.AsSpan(_pending), 0x8000_0000u | (uint)length);
        _pending += PrefixSize + length;
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_pending == 0)
            return;
        await _stream.WriteAsync(_output.AsMemory(0, _pending), cancellationToken).ConfigureAwait(false);
        _pending = 0;
        ReturnOutput();
    }

    private void ReturnOutput()
    {
        var output = _output;
        _output = [];
        if (output.Length > 0)
            ArrayPool<byte>.Shared.Return(output);
    }

    /// <inheritdoc />
    /// <remarks>Pooled: a reader keeping up with its peer waits on the socket for nearly every record.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var available = _receiveBuffer.AsSpan(_start, _end - _start);
            if (VarInt.TryRead(available, out ulong length, out int used))
            {
                if (length > (ulong)MaxRecordSize)
                    throw new ConnectionClosedException(QMuxTransportError.FrameEncodingError, $"TCP record of {length} bytes exceeds {MaxRecordSize}");
                if (available.Length >= used + (int)length)
                {
                    var record = _receiveBuffer.AsMemory(_start + used, (int)length);
                    _start += used + (int)length;
                    return record;
                }
            }
            if (_start > 0 && (_end == _receiveBuffer.Length || _start == _end))
            {
                // Move the partial record to the front; the previous record's memory is no longer promised.
                _receiveBuffer.AsSpan(_start, _end - _start).CopyTo(_receiveBuffer);
                _end -= _start;
                _start = 0;
            }
            int read = await _stream.ReadAsync(_receiveBuffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (_end == _start)
                    return null;
                throw new ConnectionClosedException((ulong)MoqErrorCode.Transport, "TCP stream ended inside a record");
            }
            _end += read;
        }
    }

    /// <summary>Shuts down our sending direction; the peer reads end-of-stream. Idempotent.</summary>
    public ValueTask CloseAsync(ulong code, string reason)
    {
        if (Interlocked.Exchange(ref _shutdown, 1) == 0)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already reset or disposed: nothing left to shut down.
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the socket.</summary>
    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
