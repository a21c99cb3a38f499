using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// The server side of an RFC 6455 WebSocket over an HTTP/1.1 upgrade, framed by us instead of ASP.NET Core's
/// <c>ManagedWebSocket</c>: one binary message is one record (spec §2.3). Implements
/// <see cref="IRecordBatchWriter"/> so the QMux writer composes records straight into the connection's output memory
/// and pays one flush per batch instead of a copy, a write and a flush per record.
/// </summary>
/// <remarks>
/// <para>Receiving behaves as <see cref="WebSocketRecordChannel"/>: fragmented messages are reassembled, a text
/// message closes with 1002, a message over <see cref="MaxIncomingRecordSize"/> with 1009, any other protocol
/// violation (unmasked frame, reserved bits, unknown opcode, bad control frame) with 1002; each surfaces as one
/// <see cref="ConnectionClosedException"/> from <see cref="ReceiveAsync"/>. Pings are answered; Pongs and Pings are
/// only read while a <see cref="ReceiveAsync"/> is pending (the QMux reader always has one).</para>
/// <para>Every frame we send (records, Pong, keep-alive Ping, Close) goes through one output and one holder of it
/// at a time, so frames never interleave. Control frames are emitted by whoever flushes next, after the records already
/// committed; a session that is idle on the data side flushes them itself.</para>
/// <para>I/O path: after Kestrel wrote the 101 response, the channel works on the connection's own pipes (the transport's,
/// or TLS's decrypted ones, from <see cref="IConnectionTransportFeature"/>) instead of the upgrade stream, which would
/// copy every byte once more into Kestrel's output and take several layers per write. Frames are composed straight
/// into the output pipe's memory and flushed once per batch (the flush waits while the connection's output is over its
/// limit); client frames are unmasked from the input pipe's buffers into the record. Nothing else uses those pipes once
/// the request is upgraded: Kestrel reads its input only through the upgrade stream (which we never touch) and writes
/// nothing after the 101 unless the upgrade stream is written. Under a server without that feature the channel wraps
/// the upgrade stream in pipes instead. An idle session holds no send or receive buffer.</para>
/// </remarks>
public sealed partial class WebSocketServerChannel : IRecordChannel, IRecordBatchWriter
{
    /// <summary>How long a Close frame may take to be written before the connection is aborted.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpContext _context;
    private readonly CancellationToken _connectionAborted;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    // True when the pipes are our wrappers of the upgrade stream (we complete them); false for the connection's own
    // pipes, which Kestrel completes when the connection ends.
    private readonly bool _ownsPipes;
    private readonly TimeSpan _keepAliveInterval;
    private readonly TimeSpan _keepAliveTimeout;
    private readonly ITimer? _keepAlive;
    // Stopwatch timestamps: the oldest unanswered keep-alive Ping (0 = none) and the last Ping sent.
    private long _pingOutstandingSince;
    private long _lastPingAt;
    private string? _abortReason;
    private int _disposed;
    private int _released;

    private WebSocketServerChannel(HttpContext context, IDuplexPipe pipes, bool ownsPipes, string? subprotocol, MoqWebSocketOptions options)
    {
        _context = context;
        _connectionAborted = context.RequestAborted;
        _input = pipes.Input;
        _output = pipes.Output;
        _ownsPipes = ownsPipes;
        // Windows larger than a block of the connection's memory pool are composed aside and copied in (Send.cs).
        _poolBlock = !ownsPipes && context.Features.Get<IMemoryPoolFeature>()?.MemoryPool.MaxBufferSize is int block and > 0
            ? block
            : int.MaxValue;
        SubProtocol = subprotocol;
        MaxIncomingRecordSize = options.QMux.MaxIncomingRecordSize;
        _keepAliveInterval = options.KeepAliveInterval;
        _keepAliveTimeout = options.KeepAliveTimeout;
        if (_keepAliveInterval > TimeSpan.Zero && _keepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            _lastPingAt = Stopwatch.GetTimestamp();
            // The ticks must not carry the request's async-locals (activity, log scopes) for the session's lifetime.
            using (ExecutionContext.SuppressFlow())
            {
                _keepAlive = TimeProvider.System.CreateTimer(static state => ((WebSocketServerChannel)state!).OnKeepAliveTick(),
                    this, _keepAliveInterval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>
    /// Completes the opening handshake of an HTTP/1.1 WebSocket upgrade (101 with <c>Sec-WebSocket-Accept</c> and
    /// <paramref name="subprotocol"/>, no extensions) and returns the channel over the upgraded connection.
    /// </summary>
    /// <param name="context">The request; it must stay running until the channel is disposed.</param>
    /// <param name="subprotocol">The selected subprotocol, one the client offered; null to answer without one.</param>
    /// <param name="options">Keep-alive and the incoming message bound (<see cref="QMuxOptions.MaxIncomingRecordSize"/>).</param>
    /// <exception cref="InvalidOperationException">The request is not an HTTP/1.1 upgrade or not a valid WebSocket handshake (check with <see cref="WebSocketHandshake.Validate"/> first).</exception>
    public static async Task<WebSocketServerChannel> AcceptAsync(HttpContext context, string? subprotocol, MoqWebSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        options ??= MoqWebSocketOptions.Default;
        if (context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
        {
            throw new InvalidOperationException("not an HTTP/1.1 upgrade request");
        }

        if (WebSocketHandshake.Validate(context.Request) is { } refusal)
        {
            throw new InvalidOperationException($"not a valid WebSocket handshake: {refusal.Reason}");
        }

        var headers = context.Response.Headers;
        headers.Upgrade = "websocket";
        headers.Connection = "Upgrade";
        headers.SecWebSocketAccept = WebSocketHandshake.ComputeAccept(context.Request.Headers.SecWebSocketKey.ToString());
        if (!string.IsNullOrEmpty(subprotocol))
        {
            headers.SecWebSocketProtocol = subprotocol;
        }

        // A session lives as long as it likes; a request timeout (if that middleware is in use) must not cut it.
        context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        // Kestrel writes and flushes the 101 here; from then on the connection's bytes are ours.
        var stream = await upgrade.UpgradeAsync().ConfigureAwait(false);
        var (pipes, owned) = context.Features.Get<IConnectionTransportFeature>()?.Transport is { } transport
            ? (transport, false)
            : (new UpgradeStreamPipes(stream), true);
        return new WebSocketServerChannel(context, pipes, owned, string.IsNullOrEmpty(subprotocol) ? null : subprotocol, options);
    }

    /// <summary>
    /// The channel over the pipes of a connection already upgraded (the 101 is sent), which it does not own: for tests
    /// that need to hold the peer's side of the pipes (backpressure, cancelled reads) in their hands.
    /// </summary>
    internal static WebSocketServerChannel OverPipes(HttpContext context, IDuplexPipe connection, MoqWebSocketOptions? options = null) =>
        new(context, connection, ownsPipes: false, subprotocol: null, options ?? MoqWebSocketOptions.Default);

    /// <summary>True when the channel works on the connection's own pipes rather than on the upgrade stream.</summary>
    internal bool UsesConnectionPipes => !_ownsPipes;

    /// <inheritdoc />
    public int MaxRecordSize => WebSocketRecordChannel.DefaultMaxRecordSize;

    /// <summary>Largest message accepted from the peer; larger ones close the channel with 1009.</summary>
    public int MaxIncomingRecordSize { get; }

    /// <summary>The subprotocol answered in the handshake (null when none).</summary>
    public string? SubProtocol { get; }

    /// <summary>The close status the peer sent, once its Close frame arrived (<see cref="WebSocketCloseStatus.Empty"/> for none).</summary>
    public WebSocketCloseStatus? PeerCloseStatus { get; private set; }

    /// <summary>The close reason the peer sent, once its Close frame arrived.</summary>
    public string? PeerCloseDescription { get; private set; }

    /// <inheritdoc />
    /// <remarks>Code mapping as <see cref="WebSocketRecordChannel.ToCloseStatus"/>; the reason is cut to 123 UTF-8 bytes.
    /// Waits (bounded) until the Close frame is written; aborts the connection when it cannot be. Never throws.</remarks>
    public async ValueTask CloseAsync(ulong code, string reason)
    {
        QueueClose(WebSocketRecordChannel.ToCloseStatus(code), reason ?? "");
        await WaitForCloseFrameAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Closes (1000) unless already closing, waits (bounded) for the Close frame to go out, and ends the receive side;
    /// a pending <see cref="ReceiveAsync"/> fails. The connection itself ends when the request handler returns
    /// (or at once, aborted, when the Close frame could not be written). Idempotent.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _keepAlive?.Dispose();
        QueueClose(WebSocketCloseStatus.NormalClosure, "");
        await WaitForCloseFrameAsync().ConfigureAwait(false);
        EndReceiving();
        // The request may end once we return, and Kestrel then tears the connection's pipes down: wait (bounded) until
        // neither side of the channel uses them any more.
        await WaitForReceiveEndAsync().ConfigureAwait(false);
        await ReleaseSendSideAsync().ConfigureAwait(false);
        // A late failure (a Pong still being written) must not touch the request's context from now on.
        Volatile.Write(ref _released, 1);
    }

    /// <summary>Tears the connection down at once (a dead peer, a send that cannot finish).</summary>
    private void Abort(string reason)
    {
        Interlocked.CompareExchange(ref _abortReason, reason, null);
        lock (_gate)
        {
            _sendFailed = true;
        }

        _closeWritten?.TrySetResult();
        if (Volatile.Read(ref _released) == 0)
        {
            _context.Abort();
        }
    }

    /// <summary>
    /// Sends a Ping every keep-alive interval and aborts when the oldest Ping went unanswered for the keep-alive
    /// timeout. One-shot timer re-armed for whichever comes first, so a timeout shorter than the interval is honoured.
    /// </summary>
    private void OnKeepAliveTick()
    {
        if (Volatile.Read(ref _disposed) != 0 || IsClosing)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        var outstanding = Volatile.Read(ref _pingOutstandingSince);
        var timeoutSet = _keepAliveTimeout > TimeSpan.Zero && _keepAliveTimeout != Timeout.InfiniteTimeSpan;
        if (timeoutSet && outstanding != 0 && Stopwatch.GetElapsedTime(outstanding, now) >= _keepAliveTimeout)
        {
            Abort($"keep-alive timeout: no pong within {_keepAliveTimeout.TotalSeconds:0.###} s");
            return;
        }

        if (Stopwatch.GetElapsedTime(_lastPingAt, now) >= _keepAliveInterval)
        {
            _lastPingAt = now;
            Interlocked.CompareExchange(ref _pingOutstandingSince, now, 0);
            QueuePing();
        }

        var next = _keepAliveInterval - Stopwatch.GetElapsedTime(_lastPingAt, now);
        outstanding = Volatile.Read(ref _pingOutstandingSince);
        if (timeoutSet && outstanding != 0)
        {
            var left = _keepAliveTimeout - Stopwatch.GetElapsedTime(outstanding, now);
            next = left < next ? left : next;
        }

        try
        {
            _keepAlive!.Change(next > TimeSpan.FromMilliseconds(1) ? next : TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: no more pings.
        }
    }

    /// <summary>Any Pong answers the outstanding keep-alive Ping (RFC 6455 allows a peer to coalesce them).</summary>
    private void OnPong() => Volatile.Write(ref _pingOutstandingSince, 0);

    private const ulong MoqErrorCodeTransport = (ulong)Coding.MoqErrorCode.Transport;
}
