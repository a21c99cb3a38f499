using System.Buffers;
using System.Runtime.CompilerServices;
using System.Net.WebSockets;
using System.Text;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// An <see cref="IRecordChannel"/> over a <see cref="WebSocket"/>: one binary message is one record
/// (spec §2.3). Works for the server-side ASP.NET Core socket and for <see cref="ClientWebSocket"/>.
/// </summary>
/// <remarks>
/// <para>Fragmented messages are reassembled; a text message is a protocol error (close 1002) and a
/// message over <see cref="MaxIncomingRecordSize"/> is refused (close 1009), both surfacing as
/// <see cref="ConnectionClosedException"/> from <see cref="ReceiveAsync"/>.</para>
/// <para>Keep-alive is not done here: the WebSocket itself sends Ping frames when it was created with a
/// <c>KeepAliveInterval</c> (the acceptor sets one on the server side, as the Rust relay pings every 5 s),
/// and browsers answer them automatically. With a <c>KeepAliveTimeout</c> the socket aborts when no Pong
/// comes back, which then shows up here as a receive failure.</para>
/// <para>Closing sends a WebSocket Close frame rather than a QMux APPLICATION_CLOSE, because
/// <c>@moq/qmux</c> 0.0.6 misparses the latter (spec §2.3.4, §8 item 15).</para>
/// </remarks>
public sealed class WebSocketRecordChannel : IRecordChannel
{
    /// <summary>Largest record we send: both JS QMux decoders refuse WebSocket messages over 16 384 bytes.</summary>
    public const int DefaultMaxRecordSize = 16 * 1024;

    /// <summary>Default bound on a received message; the clients never send more than ~16 KiB.</summary>
    public const int DefaultMaxIncomingRecordSize = 2 * 1024 * 1024;

    /// <summary>How long a Close handshake may take before the socket is aborted.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private const int MaxCloseReasonBytes = WebSocketFraming.MaxCloseReasonBytes;

    private readonly WebSocket _socket;
    // Send and Close both write frames; WebSocket allows only one outstanding send at a time.
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private byte[] _buffer;
    // The usable part of _buffer (pooled arrays may be longer than asked for, and the limit must hold exactly).
    private int _capacity;
    private int _closeStarted;
    private int _disposed;

    /// <summary>Wraps an open WebSocket.</summary>
    /// <param name="socket">The socket; this channel owns it from now on and disposes it.</param>
    /// <param name="maxIncomingRecordSize">Largest message accepted from the peer.</param>
    public WebSocketRecordChannel(WebSocket socket, int maxIncomingRecordSize = DefaultMaxIncomingRecordSize)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIncomingRecordSize, 1);
        _socket = socket;
        MaxIncomingRecordSize = maxIncomingRecordSize;
        // Rented per message (see ReceiveAsync): an idle channel holds no receive buffer.
        _buffer = [];
    }

    /// <inheritdoc />
    public int MaxRecordSize => DefaultMaxRecordSize;

    /// <summary>Largest message accepted from the peer; larger ones close the channel with 1009.</summary>
    public int MaxIncomingRecordSize { get; }

    /// <summary>The negotiated subprotocol as reported by the socket (null or empty when none).</summary>
    public string? SubProtocol => _socket.SubProtocol;

    /// <summary>The close status the peer sent, once its Close frame arrived.</summary>
    public WebSocketCloseStatus? PeerCloseStatus => _socket.CloseStatus;

    /// <summary>The close reason the peer sent, once its Close frame arrived.</summary>
    public string? PeerCloseDescription => _socket.CloseStatusDescription;

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
        {
            throw new ArgumentOutOfRangeException(nameof(record), record.Length, $"record exceeds {MaxRecordSize} bytes");
        }

        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _closeStarted) != 0)
            {
                throw new ConnectionClosedException(0, "websocket closed locally");
            }

            await _socket.SendAsync(record, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException and not ConnectionClosedException)
        {
            throw new ConnectionClosedException((ulong)MoqErrorCodeTransport, $"websocket send failed: {e.Message}");
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        // The previous record is no longer needed; wait for the next one without a buffer (a zero-byte receive
        // returns once a frame header arrived), so thousands of idle sessions hold no receive buffers.
        ReturnBuffer();
        var length = 0;
        var waited = false;
        while (true)
        {
            if (waited && length == _capacity)
            {
                if (length >= MaxIncomingRecordSize)
                {
                    await FailAsync(WebSocketCloseStatus.MessageTooBig, "record too large").ConfigureAwait(false);
                    throw new ConnectionClosedException(MoqErrorCodeBounds, $"websocket message exceeds {MaxIncomingRecordSize} bytes");
                }

                Grow(length);
            }

            ValueWebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(_buffer.AsMemory(length, _capacity - length), cancellationToken).ConfigureAwait(false);
                waited = true;
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException)
            {
                // A reset TCP connection or an aborted socket (e.g. a missed keep-alive Pong).
                throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket receive failed: {e.Message}");
            }

            switch (result.MessageType)
            {
                case WebSocketMessageType.Close:
                    // Complete the Close handshake so the peer sees a clean shutdown, then report end of channel.
                    await CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
                    return null;
                case WebSocketMessageType.Text:
                    await FailAsync(WebSocketCloseStatus.ProtocolError, "text messages are not allowed").ConfigureAwait(false);
                    throw new ConnectionClosedException(MoqErrorCodeProtocol, "websocket text message (only binary is allowed)");
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return _buffer.AsMemory(0, length);
            }
        }
    }

    /// <summary>Replaces the buffer with a pooled one twice as large (the first: the common record size), keeping what was received.</summary>
    private void Grow(int length)
    {
        var size = _capacity == 0 ? Math.Min(MaxIncomingRecordSize, DefaultMaxRecordSize) : (int)Math.Min((long)_capacity * 2, MaxIncomingRecordSize);
        var grown = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, length).CopyTo(grown);
        ReturnBuffer();
        _buffer = grown;
        _capacity = size;
    }

    private void ReturnBuffer()
    {
        var buffer = _buffer;
        _buffer = [];
        _capacity = 0;
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Application code 0 maps to 1000 (normal closure); other codes below 1000 map into the private range as
    /// 4000 + code so a peer can still tell them apart; larger codes use 1000 with the reason only.
    /// </remarks>
    public ValueTask CloseAsync(ulong code, string reason) => new(CloseOutputAsync(ToCloseStatus(code), reason));

    /// <summary>Maps an application close code to a WebSocket close status (see <see cref="CloseAsync"/>).</summary>
    public static WebSocketCloseStatus ToCloseStatus(ulong code) =>
        code is > 0 and < 1000 ? (WebSocketCloseStatus)(4000 + (int)code) : WebSocketCloseStatus.NormalClosure;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
        _socket.Dispose();
        // _sendLock is deliberately not disposed: a racing SendAsync may still wait on it, and SemaphoreSlim holds no
        // unmanaged resources unless its wait handle is used.
    }

    private Task FailAsync(WebSocketCloseStatus status, string reason) => CloseOutputAsync(status, reason);

    /// <summary>
    /// Sends our Close frame once. CloseOutputAsync (not CloseAsync) is used because a receive loop may be
    /// pending concurrently and CloseAsync would itself try to receive the peer's Close.
    /// </summary>
    private async Task CloseOutputAsync(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closeStarted, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(CloseTimeout);
        var locked = false;
        try
        {
            // Wait for an in-flight record to go out so the Close frame is not interleaved with it.
            await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            locked = true;
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, TruncateReason(reason), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // The peer is gone or too slow; there is nobody left to tell.
            _socket.Abort();
        }
        finally
        {
            if (locked)
            {
                _sendLock.Release();
            }
        }
    }

    /// <summary>Cuts a Close reason to the 123 UTF-8 bytes a Close frame has room for, on a character boundary.</summary>
    internal static string TruncateReason(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= MaxCloseReasonBytes)
        {
            return reason;
        }

        // Cut on a character boundary so the reason stays valid UTF-8.
        var length = reason.Length;
        while (length > 0 && Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxCloseReasonBytes)
        {
            length--;
        }

        if (length > 0 && char.IsHighSurrogate(reason[length - 1]))
        {
            length--;
        }

        return reason[..length];
    }

    private const ulong MoqErrorCodeTransport = (ulong)Coding.MoqErrorCode.Transport;
    private const ulong MoqErrorCodeProtocol = (ulong)Coding.MoqErrorCode.ProtocolViolation;
    private const ulong MoqErrorCodeBounds = (ulong)Coding.MoqErrorCode.BoundsExceeded;
}
