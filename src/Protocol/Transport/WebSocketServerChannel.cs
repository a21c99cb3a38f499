using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// The server side of an RFC 6455 WebSocket over an HTTP/1.1 upgrade, framed by us instead of ASP.NET Core's
/// <c>ManagedWebSocket</c>: one binary message is one record (spec §2.3). Implements
/// <see cref="IRecordBatchWriter"/> so the QMux writer composes records straight into the send buffer and pays one
/// write and one flush per batch instead of a copy, a write and a flush per record.
/// </summary>
/// <remarks>
/// <para>Receiving behaves as <see cref="WebSocketRecordChannel"/>: fragmented messages are reassembled, a text
/// message closes with 1002, a message over <see cref="MaxIncomingRecordSize"/> with 1009, any other protocol
/// violation (unmasked frame, reserved bits, unknown opcode, bad control frame) with 1002; each surfaces as one
/// <see cref="ConnectionClosedException"/> from <see cref="ReceiveAsync"/>. Pings are answered; Pongs and Pings are
/// only read while a <see cref="ReceiveAsync"/> is pending (the QMux reader always has one).</para>
/// <para>Every frame we send (records, Pong, keep-alive Ping, Close) goes through one send buffer and one flusher,
/// so frames never interleave. Control frames are emitted by whoever flushes next, after the records already
/// committed; a session that is idle on the data side flushes them itself.</para>
/// <para>Write path: Kestrel's <c>Response.BodyWriter</c> refuses writes once the request is upgraded, so frames are
/// collected in pooled segments and written to the upgrade stream, one write (one copy into Kestrel's output pipe
/// and one flush, which waits while Kestrel's buffer is full) per segment. An idle session holds no send or receive
/// buffer.</para>
/// </remarks>
public sealed partial class WebSocketServerChannel : IRecordChannel, IRecordBatchWriter
{
    /// <summary>How long a Close frame may take to be written before the connection is aborted.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpContext _context;
    private readonly CancellationToken _connectionAborted;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly TimeSpan _keepAliveInterval;
    private readonly TimeSpan _keepAliveTimeout;
    private readonly ITimer? _keepAlive;
    // Stopwatch timestamps: the oldest unanswered keep-alive Ping (0 = none) and the last Ping sent.
    private long _pingOutstandingSince;
    private long _lastPingAt;
    private string? _abortReason;
    private int _disposed;
    private int _released;

    private WebSocketServerChannel(HttpContext context, Stream stream, string? subprotocol, MoqWebSocketOptions options)
    {
        _context = context;
        _connectionAborted = context.RequestAborted;
        _stream = stream;
        SubProtocol = subprotocol;
        MaxIncomingRecordSize = options.QMux.MaxIncomingRecordSize;
        // Zero-byte reads: the reader rents a buffer only once bytes arrived, so an idle session holds none.
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(
            bufferSize: ReadBufferSize, minimumReadSize: ReadBufferSize / 4, leaveOpen: true, useZeroByteReads: true));
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
        var stream = await upgrade.UpgradeAsync().ConfigureAwait(false);
        return new WebSocketServerChannel(context, stream, string.IsNullOrEmpty(subprotocol) ? null : subprotocol, options);
    }

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
        ReleaseSendBuffers();
        // The request may end from now on: a late failure (a Pong still being written) must not touch its context.
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
    private const ulong MoqErrorCodeProtocol = (ulong)Coding.MoqErrorCode.ProtocolViolation;
    private const ulong MoqErrorCodeBounds = (ulong)Coding.MoqErrorCode.BoundsExceeded;
}
