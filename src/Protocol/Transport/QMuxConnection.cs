using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A moq-lite connection multiplexed over an <see cref="IRecordChannel"/> with the legacy
/// <c>webtransport</c> framing or QMux draft-00/01/02 (spec §2.3): stream ids, flow control in both
/// directions, stream limits, resets, stop-sending, pings and close.
/// </summary>
/// <remarks>
/// <para>Construct it over a connected channel, then call <see cref="Start"/> once. On QMux formats our
/// QX_TRANSPORT_PARAMETERS are the first record sent; streams can be opened (and data sent) only once
/// the peer's parameters have granted credit.</para>
/// <para><see cref="ISendStream.WriteAsync"/> copies the data into pooled per-stream buffers and completes
/// as soon as it is queued (the caller may reuse its memory); it waits only while the stream already
/// holds <see cref="QMuxOptions.SendBufferSize"/> unsent bytes, which is how the peer's flow control
/// pushes back. A cancelled write queued nothing.</para>
/// <para>Received data is appended in arrival order; STREAM offsets are not checked (@moq/qmux 0.0.6
/// sends every frame at "offset 0"). Closing discards unsent data and unread data, as QUIC does.</para>
/// </remarks>
public sealed partial class QMuxConnection : IMoqConnection
{
    private const int Bidi = 0;
    private const int Uni = 1;

    /// <summary>Largest record any WebSocket client accepts (@moq/qmux 0.3.3 on qmux-00).</summary>
    private const int WebSocketRecordLimit = 16384;

    private readonly IRecordChannel _channel;
    private readonly QMuxWireFormat _format;
    private readonly bool _isServer;
    private readonly QMuxOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    // Stream readers claimed while dispatching a frame (under _sync), completed after the lock is let go.
    private AsyncWaiter? _claimedReaders;
    // A new peer stream taken by the parked accept loop while dispatching a frame (under _sync), handed over after it.
    private (StreamAcceptor? Acceptor, QMuxStream? Stream) _acceptHandoff;
    private readonly Dictionary<long, QMuxStream> _streams = new();
    // Peer-opened streams not yet accepted, per direction, and the acceptors parked on them (under _sync). A plain
    // queue holds nothing until used; an unbounded Channel<T> costs an idle session a queue segment per direction
    // and every parked accept a wait object.
    private PerDirection<Queue<QMuxStream>> _accepted;
    private PerDirection<WaiterList> _acceptors;
    private PerDirection<StreamAcceptor?> _acceptor;
    // Openers waiting for stream credit; created when one has to wait.
    private PerDirection<Queue<TaskCompletionSource<QMuxStream>>?> _openWaiters;
    private readonly TaskCompletionSource<ConnectionCloseInfo> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _sendAbort = new();
    private readonly CancellationTokenSource _receiveAbort = new();

    // Peer's limits on what we send.
    private bool _peerParametersReceived;
    private long _connSendMax;
    private long _connSent;
    private long _peerStreamDataBidiLocal;
    private long _peerStreamDataBidiRemote;
    private long _peerStreamDataUni;
    private PerDirection<long> _peerMaxStreams;
    private PerDirection<long> _localOpened;
    private int _peerRecordLimit;

    // Our limits on what the peer sends.
    private readonly long _connRecvWindow;
    private long _connRecvMax;
    private long _connReceived;
    private long _connConsumed;
    private PerDirection<long> _localMaxStreams;
    private PerDirection<long> _announcedMaxStreams;
    private PerDirection<long> _peerOpened;
    private PerDirection<bool> _maxStreamsPending;
    private bool _maxDataPending;
    private long _legacyBuffered;

    private ConnectionCloseInfo? _closeInfo;
    private bool _sendCloseFrame;
    private ulong _closeFrameType;
    private int _started;
    private int _disposed;
    private Task _readerTask = Task.CompletedTask;
    private Task _writerTask = Task.CompletedTask;

    /// <summary>Creates a connection over <paramref name="channel"/>; call <see cref="Start"/> to run it.</summary>
    /// <param name="channel">The connected record channel; the connection owns and disposes it.</param>
    /// <param name="format">The framing selected by the subprotocol (or <see cref="QMuxWireFormat.Qmux01"/> for TCP).</param>
    /// <param name="isServer">True on the accepting side (server-initiated stream ids have bit 0 set).</param>
    /// <param name="applicationProtocol">The negotiated moq-lite protocol, e.g. <c>moq-lite-04</c>, or null for legacy SETUP.</param>
    /// <param name="transportName">A short name for logs, e.g. <c>websocket/qmux-00</c>.</param>
    /// <param name="options">Advertised limits and buffering; <see cref="QMuxOptions.Default"/> when null.</param>
    /// <param name="logger">Receives one line per abnormal close.</param>
    public QMuxConnection(
        IRecordChannel channel,
        QMuxWireFormat format,
        bool isServer,
        string? applicationProtocol,
        string transportName,
        QMuxOptions? options = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
        _format = format;
        _isServer = isServer;
        ApplicationProtocol = applicationProtocol;
        TransportName = transportName;
        _options = options ?? QMuxOptions.Default;
        _logger = logger ?? NullLogger.Instance;

        for (var direction = Bidi; direction <= Uni; direction++)
        {
            _accepted[direction] = new Queue<QMuxStream>();
            _acceptors[direction] = new WaiterList(_sync);
        }
        _peerRecordLimit = IsMultiFrame ? (int)QMuxTransportParameters.DefaultMaxRecordSize : WebSocketRecordLimit;
        _localMaxStreams[Bidi] = _announcedMaxStreams[Bidi] = _options.InitialMaxStreamsBidi;
        _localMaxStreams[Uni] = _announcedMaxStreams[Uni] = _options.InitialMaxStreamsUni;
        if (FlowControlled)
        {
            _connRecvWindow = _options.InitialMaxData;
            _connRecvMax = _options.InitialMaxData;
        }
        else
        {
            // Legacy framing has no credit: everything is allowed both ways.
            _connSendMax = long.MaxValue;
            _connRecvWindow = long.MaxValue;
            _connRecvMax = long.MaxValue;
            _peerStreamDataBidiLocal = _peerStreamDataBidiRemote = _peerStreamDataUni = long.MaxValue;
            _peerMaxStreams[Bidi] = _peerMaxStreams[Uni] = long.MaxValue;
            _peerParametersReceived = true;
        }
        _recordCapacity = Math.Min(channel.MaxRecordSize, WebSocketRecordLimit);
    }

    /// <inheritdoc />
    public string? ApplicationProtocol { get; }

    /// <inheritdoc />
    public string TransportName { get; }

    /// <inheritdoc />
    public bool IsUrlLess { get; init; }

    /// <summary>The framing in use.</summary>
    public QMuxWireFormat WireFormat => _format;

    /// <inheritdoc />
    public Task<ConnectionCloseInfo> Closed => _closed.Task;

    /// <summary>Completes when the reader and writer loops have both finished (after close).</summary>
    public Task Completion => Task.WhenAll(_readerTask, _writerTask);

    private bool FlowControlled => _format != QMuxWireFormat.Legacy;

    private bool IsMultiFrame => _format is QMuxWireFormat.Qmux01 or QMuxWireFormat.Qmux02;

    /// <summary>
    /// Starts the reader and writer loops (on QMux formats the writer first sends our transport
    /// parameters). Idempotent; the loops never throw, failures close the connection.
    /// </summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            return;
        _writerTask = Task.Run(WriteLoopAsync);
        _readerTask = ReadLoopAsync();
    }

    // ------------------------------------------------------------------ opening and accepting

    /// <inheritdoc />
    public async ValueTask<IBidiStream> OpenBidiAsync(CancellationToken cancellationToken = default) =>
        await OpenAsync(Bidi, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<ISendStream> OpenUniAsync(CancellationToken cancellationToken = default) =>
        await OpenAsync(Uni, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public ValueTask<IBidiStream?> AcceptBidiAsync(CancellationToken cancellationToken = default)
    {
        lock (_sync)
        {
            if (TryAcceptLocked(Bidi, out var stream))
                return new ValueTask<IBidiStream?>(stream);
            if (ParkAcceptorLocked(Bidi, cancellationToken) is { } acceptor)
                return new ValueTask<IBidiStream?>(acceptor, acceptor.Version);
        }
        return AcceptSlowAsync<IBidiStream>(Bidi, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IRecvStream?> AcceptUniAsync(CancellationToken cancellationToken = default)
    {
        lock (_sync)
        {
            if (TryAcceptLocked(Uni, out var stream))
                return new ValueTask<IRecvStream?>(stream);
            if (ParkAcceptorLocked(Uni, cancellationToken) is { } acceptor)
                return new ValueTask<IRecvStream?>(acceptor, acceptor.Version);
        }
        return AcceptSlowAsync<IRecvStream>(Uni, cancellationToken);
    }

    /// <summary>The next accepted stream (true), null once the connection closed (true), or false to wait. Caller holds the lock.</summary>
    private bool TryAcceptLocked(int direction, out QMuxStream? stream) =>
        _accepted[direction].TryDequeue(out stream) || _closeInfo is not null;

    /// <summary>
    /// The direction's reusable acceptor, armed for the next stream, when the accept can use it: a session's accept loop
    /// (one per direction, no token) parks on it for the whole session without a state machine or a waiter. Null for a
    /// cancellable accept or a second concurrent one; those take the general path. Caller holds the lock.
    /// </summary>
    private StreamAcceptor? ParkAcceptorLocked(int direction, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled || _acceptors[direction].HasWaiters)
            return null;
        var acceptor = _acceptor[direction] ??= new StreamAcceptor();
        if (acceptor.InUse)
            return null;
        acceptor.Arm();
        return acceptor;
    }

    /// <summary>Hands a new peer stream to the parked acceptor, or queues it and wakes the general waiters. Caller holds the lock.</summary>
    private void DeliverAccepted(int direction, QMuxStream stream)
    {
        if (_acceptor[direction] is { Pending: true } acceptor)
        {
            // Handed over after the lock (ProcessRecord): the accept loop resumes on the receive loop and starts
            // reading the stream, whose first bytes came in the same frame, without a thread-pool hop.
            acceptor.Take();
            if (_acceptHandoff.Acceptor is { } earlier)
                earlier.Complete(_acceptHandoff.Stream, inline: false);
            _acceptHandoff = (acceptor, stream);
            return;
        }
        _accepted[direction].Enqueue(stream);
        _acceptors[direction].WakeAll();
    }

    /// <summary>
    /// True with the next accepted stream, or with null once the connection closed; false when it must wait, with
    /// <paramref name="waiter"/> parked (<paramref name="wait"/>).
    /// </summary>
    private bool TryAccept(int direction, out QMuxStream? stream, AsyncWaiter waiter, CancellationToken cancellationToken, out ValueTask wait)
    {
        lock (_sync)
        {
            wait = default;
            if (TryAcceptLocked(direction, out stream))
                return true;
            wait = _acceptors[direction].Park(waiter, cancellationToken);
            return false;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T?> AcceptSlowAsync<T>(int direction, CancellationToken cancellationToken) where T : class
    {
        var waiter = AsyncWaiter.Rent();
        try
        {
            while (true)
            {
                if (TryAccept(direction, out var stream, waiter, cancellationToken, out var wait))
                    return stream as T;
                await wait.ConfigureAwait(false);
            }
        }
        finally
        {
            AsyncWaiter.Return(waiter);
        }
    }

    private async ValueTask<QMuxStream> OpenAsync(int direction, CancellationToken cancellationToken)
    {
        TaskCompletionSource<QMuxStream> waiter;
        lock (_sync)
        {
            ThrowIfClosed();
            if ((_openWaiters[direction]?.Count ?? 0) == 0 && CanOpen(direction))
                return RegisterLocalStream(direction);
            waiter = new TaskCompletionSource<QMuxStream>(TaskCreationOptions.RunContinuationsAsynchronously);
            (_openWaiters[direction] ??= new Queue<TaskCompletionSource<QMuxStream>>()).Enqueue(waiter);
        }
        using (cancellationToken.Register(static w => ((TaskCompletionSource<QMuxStream>)w!).TrySetCanceled(), waiter))
            return await waiter.Task.ConfigureAwait(false);
    }

    private bool CanOpen(int direction) => _localOpened[direction] < _peerMaxStreams[direction];

    /// <summary>Hands stream credit to waiting openers in order. Caller holds the lock.</summary>
    private void ServeOpenWaiters(int direction)
    {
        if (_openWaiters[direction] is not { } waiters)
            return;
        while (waiters.Count > 0 && CanOpen(direction))
        {
            var waiter = waiters.Dequeue();
            if (waiter.Task.IsCompleted)
                continue;
            var stream = NewLocalStream(direction);
            if (waiter.TrySetResult(stream))
                AddLocalStream(stream, direction);
        }
    }

    private QMuxStream RegisterLocalStream(int direction)
    {
        var stream = NewLocalStream(direction);
        AddLocalStream(stream, direction);
        return stream;
    }

    private QMuxStream NewLocalStream(int direction)
    {
        long id = (_localOpened[direction] << 2) | ((long)direction << 1) | (_isServer ? 1L : 0L);
        return direction == Bidi
            ? new QMuxStream(this, id, hasSend: true, hasRecv: true, _peerStreamDataBidiRemote, RecvWindow(_options.InitialMaxStreamDataBidiLocal))
            : new QMuxStream(this, id, hasSend: true, hasRecv: false, _peerStreamDataUni, 0);
    }

    private void AddLocalStream(QMuxStream stream, int direction)
    {
        _streams.Add(stream.Id, stream);
        _localOpened[direction]++;
    }

    private long RecvWindow(long advertised) => FlowControlled ? advertised : long.MaxValue;

    // ------------------------------------------------------------------ closing

    /// <inheritdoc />
    public void Close(ulong code, string reason) =>
        CloseCore(new ConnectionCloseInfo(code, reason, ByPeer: false), sendCloseFrame: true, frameType: 0);

    /// <summary>
    /// Records why the connection closed, fails everything pending and tells the writer to finish
    /// (with a close frame when <paramref name="sendCloseFrame"/>). Only the first call has an effect.
    /// </summary>
    private bool CloseCore(ConnectionCloseInfo info, bool sendCloseFrame, ulong frameType)
    {
        List<QMuxStream> streams;
        List<TaskCompletionSource<QMuxStream>> openers = [];
        lock (_sync)
        {
            if (_closeInfo is not null)
                return false;
            _closeInfo = info;
            _sendCloseFrame = sendCloseFrame;
            _closeFrameType = frameType;
            streams = [.. _streams.Values];
            foreach (var queue in _openWaiters)
            {
                if (queue is null)
                    continue;
                openers.AddRange(queue);
                queue.Clear();
            }
            foreach (var stream in streams)
            {
                stream.ClearBuffers();
                WakeReader(stream);
                Release(stream.DrainWaiter);
                stream.DrainWaiter = null;
            }
            _streams.Clear();
            _ready.Clear();
            _connBlocked.Clear();
            _control.Clear();
            // Streams nobody accepted give their pooled buffers back; parked acceptors see the close.
            foreach (var queue in _accepted)
            {
                while (queue.TryDequeue(out var s))
                    s.ClearBuffers();
            }
            foreach (var acceptors in _acceptors)
                acceptors.WakeAll();
            foreach (var acceptor in _acceptor)
            {
                if (acceptor is { Pending: true })
                    acceptor.Complete(null);
            }
        }
        var error = new ConnectionClosedException(info.Code, $"connection closed: {info.Reason}");
        foreach (var opener in openers)
            opener.TrySetException(error);
        _closed.TrySetResult(info);
        WakeWriter();
        // Bound how long the final close frame may wait on a peer that no longer reads.
        try { _sendAbort.CancelAfter(_options.CloseTimeout); } catch (ObjectDisposedException) { }
        return true;
    }

    private static void Release(TaskCompletionSource? waiter) => waiter?.TrySetResult();

    private void ThrowIfClosed()
    {
        if (_closeInfo is { } info)
            throw new ConnectionClosedException(info.Code, $"connection closed: {info.Reason}");
    }

    /// <summary>The peer broke the protocol: log once and close with a transport error code.</summary>
    private void CloseWithError(QMuxFrameException error)
    {
        if (CloseCore(new ConnectionCloseInfo(error.Code, error.Message, ByPeer: false), sendCloseFrame: true, error.FrameType))
            _logger.LogWarning("{Transport}: closing connection, protocol error 0x{Code:x}: {Reason}", TransportName, error.Code, error.Message);
    }

    /// <summary>How long <see cref="DisposeAsync"/> waits for the peer to close its side after ours.</summary>
    private static readonly TimeSpan PeerCloseGrace = TimeSpan.FromSeconds(1);

    /// <summary>Closes (if still open), waits for the loops, and disposes the channel. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Close(0, "disposed");
        if (Volatile.Read(ref _started) != 0)
        {
            await _writerTask.ConfigureAwait(false);
            // Give the peer a moment to answer our close (its close ends the reader): tearing the transport down
            // while its reply is still arriving can reset the TCP connection and lose our close frame, and with
            // it the close code. A peer that never closes its side would keep the reader waiting: cut it off.
            await Task.WhenAny(_readerTask, Task.Delay(PeerCloseGrace)).ConfigureAwait(false);
            _receiveAbort.Cancel();
        }
        await _channel.DisposeAsync().ConfigureAwait(false);
        await _readerTask.ConfigureAwait(false);
        _sendAbort.Dispose();
        _receiveAbort.Dispose();
    }

    /// <summary>
    /// The single, reusable wait of an accept loop (see <see cref="ParkAcceptorLocked"/>): completed with the next peer
    /// stream, or null at close. Armed and completed under the connection's lock; continuations run on the pool.
    /// </summary>
    private sealed class StreamAcceptor : IValueTaskSource<IBidiStream?>, IValueTaskSource<IRecvStream?>
    {
        private ManualResetValueTaskSourceCore<QMuxStream?> _core = new() { RunContinuationsAsynchronously = true };
        private volatile bool _inUse;

        /// <summary>True from <see cref="Arm"/> to <see cref="Take"/>.</summary>
        public bool Pending { get; private set; }

        /// <summary>True from <see cref="Arm"/> until the result is taken: only then may it be armed again.</summary>
        public bool InUse => _inUse;

        public short Version => _core.Version;

        public void Arm()
        {
            _core.Reset();
            _inUse = true;
            Pending = true;
        }

        public void Complete(QMuxStream? stream)
        {
            Take();
            Complete(stream, inline: false);
        }

        /// <summary>Ends the pending accept (under the connection's lock); <see cref="Complete(QMuxStream?, bool)"/> follows.</summary>
        public void Take() => Pending = false;

        /// <summary>Hands over a taken accept's stream; with <paramref name="inline"/> the accept loop resumes on this thread.</summary>
        public void Complete(QMuxStream? stream, bool inline)
        {
            _core.RunContinuationsAsynchronously = !inline;
            _core.SetResult(stream);
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        IBidiStream? IValueTaskSource<IBidiStream?>.GetResult(short token) => TakeResult(token);

        IRecvStream? IValueTaskSource<IRecvStream?>.GetResult(short token) => TakeResult(token);

        private QMuxStream? TakeResult(short token)
        {
            var stream = _core.GetResult(token);
            _inUse = false;
            return stream;
        }
    }

    /// <summary>One value per stream direction (index <c>Bidi</c> or <c>Uni</c>), inline: no array per connection.</summary>
    [InlineArray(2)]
    private struct PerDirection<T>
    {
        private T _element;
    }
}
