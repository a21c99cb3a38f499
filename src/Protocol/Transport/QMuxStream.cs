namespace MoqCluster.Protocol.Transport;

/// <summary>
/// One QMux stream: the state of its send half and/or receive half. All fields are guarded by the
/// owning <see cref="QMuxConnection"/>'s lock; the interface methods delegate to the connection so
/// that flow control and scheduling live in one place.
/// </summary>
/// <remarks>
/// A relay opens one uni stream per group and subscriber, so what a stream allocates up front is paid per group
/// and subscriber: the buffers and the <see cref="Stopped"/> task are created only when first used, so a send-only
/// stream never has a receive buffer, a receive-only one never a send buffer, and few streams ever need the task.
/// </remarks>
internal sealed class QMuxStream : IBidiStream, ISendStream, IRecvStream, IWaiterOwner
{
    private readonly QMuxConnection _connection;
    private StreamBuffer? _sendBuffer;
    private TaskCompletionSource<ulong>? _stopped;
    // 0 until the peer's STOP_SENDING; then its code + 1 (a code is at most 2^62 - 1), for a Stopped task created later.
    private ulong _stopCodePlusOne;

    public QMuxStream(QMuxConnection connection, long id, bool hasSend, bool hasRecv, long sendMax, long recvWindow)
    {
        _connection = connection;
        Id = id;
        HasSend = hasSend;
        HasRecv = hasRecv;
        SendMax = sendMax;
        if (hasRecv)
            _rx = new RecvHalf(recvWindow);
    }

    /// <inheritdoc cref="ISendStream.Id" />
    public long Id { get; }

    public bool HasSend { get; }
    public bool HasRecv { get; }

    /// <summary>Uni or bidi: index 1 or 0 into per-direction tables.</summary>
    public int Direction => (int)((Id >> 1) & 1);

    // ------------------------------------------------------------ send half
    public StreamBuffer SendBuffer => _sendBuffer ??= new();
    public long SendOffset { get; set; }
    public long SendMax { get; set; }
    public bool FinQueued { get; set; }
    public bool FinSent { get; set; }
    public ulong? ResetCode { get; set; }
    public bool StoppedByPeer { get; set; }
    public bool SendDone { get; set; }

    /// <summary>In the ready queue (or parked waiting for connection credit).</summary>
    public bool Queued { get; set; }

    public TaskCompletionSource? DrainWaiter { get; set; }

    /// <inheritdoc />
    public long SendOrder { get; set; }

    /// <inheritdoc />
    public Task<ulong> Stopped
    {
        get
        {
            var stopped = Volatile.Read(ref _stopped);
            if (stopped is null)
            {
                stopped = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
                stopped = Interlocked.CompareExchange(ref _stopped, stopped, null) ?? stopped;
                // A STOP_SENDING that arrived before the task existed.
                if (Interlocked.Read(ref _stopCodePlusOne) is var plusOne and not 0)
                    stopped.TrySetResult(plusOne - 1);
            }
            return stopped.Task;
        }
    }

    /// <summary>The peer sent STOP_SENDING: completes <see cref="Stopped"/>, now or when it is first asked for.</summary>
    public void CompleteStopped(ulong code)
    {
        Interlocked.CompareExchange(ref _stopCodePlusOne, code + 1, 0);
        Volatile.Read(ref _stopped)?.TrySetResult(code);
    }

    // ------------------------------------------------------------ receive half
    // Only streams with a receive half carry its state: the uni streams a relay opens per group and subscriber,
    // most of its streams, do not.
    private readonly RecvHalf? _rx;

    private RecvHalf Rx => _rx ?? throw new InvalidOperationException($"stream {Id} has no receive half");

    public StreamBuffer RecvBuffer => Rx.Buffer ??= new();

    /// <summary>Lets the send queue's hold on its shared payloads' owner go (see <see cref="StreamBuffer.ReleaseOwner"/>).</summary>
    public void ReleaseSendOwner() => _sendBuffer?.ReleaseOwner();

    /// <summary>Drops whatever either buffer holds, without creating one that was never used.</summary>
    public void ClearBuffers()
    {
        _sendBuffer?.Clear();
        _rx?.Buffer?.Clear();
    }

    /// <summary>Bytes waiting to be read (0 without creating the buffer).</summary>
    public long RecvBuffered => _rx?.Buffer?.Length ?? 0;

    /// <summary>Bytes received (appended in arrival order) including discarded ones.</summary>
    public long Received { get => Rx.Received; set => Rx.Received = value; }

    /// <summary>Bytes read by the application or discarded.</summary>
    public long Consumed { get => Rx.Consumed; set => Rx.Consumed = value; }

    /// <summary>Our advertised limit (absolute offset) for this stream.</summary>
    public long RecvMax { get => Rx.RecvMax; set => Rx.RecvMax = value; }

    public long RecvWindow => Rx.RecvWindow;
    public bool FinReceived { get => Rx.FinReceived; set => Rx.FinReceived = value; }
    public long FinalSize { get => Rx.FinalSize; set => Rx.FinalSize = value; }
    public ulong? PeerResetCode { get => Rx.PeerResetCode; set => Rx.PeerResetCode = value; }
    public bool StopSent { get => Rx.StopSent; set => Rx.StopSent = value; }
    public ulong StopCode { get => Rx.StopCode; set => Rx.StopCode = value; }
    public bool RecvDone { get => Rx.RecvDone; set => Rx.RecvDone = value; }

    /// <summary>The reader parked on this stream, if any (borrowed from <see cref="AsyncWaiter"/>'s pool for the wait).</summary>
    public AsyncWaiter? ReadWaiter
    {
        get => _rx?.ReadWaiter;
        set
        {
            // Clearing it is harmless on a send-only stream (close wakes every stream's reader).
            if (_rx is not null)
                _rx.ReadWaiter = value;
            else if (value is not null)
                throw new InvalidOperationException($"stream {Id} has no receive half");
        }
    }

    /// <summary>The receive half's state; guarded by the connection's lock.</summary>
    private sealed class RecvHalf(long window)
    {
        public StreamBuffer? Buffer;
        public long Received;
        public long Consumed;
        public long RecvMax = window;
        public readonly long RecvWindow = window;
        public long FinalSize;
        public ulong? PeerResetCode;
        public ulong StopCode;
        public AsyncWaiter? ReadWaiter;
        public bool FinReceived;
        public bool StopSent;
        public bool RecvDone;
    }

    /// <summary>A cancelled read leaves the stream.</summary>
    void IWaiterOwner.Remove(AsyncWaiter waiter) => _connection.RemoveReadWaiter(this, waiter);

    public bool Removed { get; set; }

    // ------------------------------------------------------------ interfaces
    /// <inheritdoc />
    public ISendStream Send => this;

    /// <inheritdoc />
    public IRecvStream Recv => this;

    /// <inheritdoc />
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool fin = false, CancellationToken cancellationToken = default) =>
        _connection.WriteAsync(this, data, fin, cancellationToken);

    /// <summary>
    /// Like <see cref="WriteAsync"/> but queues <paramref name="data"/> by reference, without a copy: only for
    /// memory that is never written again (shared frame payloads).
    /// </summary>
    public ValueTask WriteSharedAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _connection.WriteAsync(this, default, data, fin: false, shared: true, owner: null, cancellationToken);

    /// <summary>
    /// Like <see cref="WriteSharedAsync(ReadOnlyMemory{byte}, CancellationToken)"/> for pooled memory: the queue holds
    /// <paramref name="owner"/> until the bytes are sent or dropped, so the memory is not reused before that.
    /// </summary>
    /// <param name="prefix">A short header (at most <see cref="StreamBuffer.MaxInlinePrefix"/> bytes) copied in front of the data.</param>
    /// <param name="data">The shared bytes.</param>
    /// <param name="owner">Pooled memory's owner, or null for memory that is never reused.</param>
    /// <param name="cancellationToken">Cancels a write still waiting for buffer room.</param>
    public ValueTask WriteSharedAsync(ReadOnlyMemory<byte> prefix, ReadOnlyMemory<byte> data, ISharedPayloadOwner? owner, CancellationToken cancellationToken = default) =>
        _connection.WriteAsync(this, prefix, data, fin: false, shared: true, owner, cancellationToken);

    /// <inheritdoc />
    public void Reset(ulong code) => _connection.ResetStream(this, code);

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _connection.ReadAsync(this, buffer, cancellationToken);

    /// <inheritdoc />
    public void StopSending(ulong code) => _connection.StopSending(this, code);

    /// <inheritdoc />
    public override string ToString() => $"stream {Id}";
}
