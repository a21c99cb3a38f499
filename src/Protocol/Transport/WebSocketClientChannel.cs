using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// The client side of an RFC 6455 WebSocket, framed by us over a TCP socket (and TLS for <c>wss</c>) instead of
/// <see cref="ClientWebSocket"/>: one binary message is one record (spec §2.3). Implements
/// <see cref="IRecordBatchWriter"/>, so the QMux writer composes records straight into one buffer and a batch costs
/// one write.
/// </summary>
/// <remarks>
/// <para>Why not <see cref="ClientWebSocket"/>: it reads each message with at least two socket reads (header, then
/// payload) through several stream layers, and sends each record with a write of its own. This channel reads up to
/// 64 KiB at a time and hands out the records that arrived whole in place, without a copy; only fragmented messages and
/// messages larger than the read buffer are assembled (copied once).</para>
/// <para>Receiving behaves as <see cref="WebSocketServerChannel"/> with the roles swapped: a masked server frame, reserved
/// bits or opcodes, a bad control frame or broken fragmentation close with 1002, a text message with 1002, a message
/// over <see cref="MaxIncomingRecordSize"/> with 1009; each surfaces as one <see cref="ConnectionClosedException"/>.
/// Pings are answered with Pongs while a receive is pending (the QMux reader always has one). Every frame we send is
/// masked with a fresh random key (RFC 6455 §5.3).</para>
/// <para>Keep-alive: an unsolicited Pong every <see cref="MoqWebSocketClientOptions.KeepAliveInterval"/> (RFC 6455
/// §5.5.3 allows it as a heartbeat), as <see cref="ClientWebSocket"/> does; the server's own Pings detect a dead peer.</para>
/// </remarks>
public sealed class WebSocketClientChannel : IRecordChannel, IRecordBatchWriter
{
    /// <summary>Read buffer: room for several 16 KiB records per socket read.</summary>
    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>Header room reserved in front of every composed record: the largest masked header of a record ≤ 65 535 bytes.</summary>
    private const int RecordHeaderRoom = 8;

    /// <summary>How long a Close frame may take to be written before the connection is dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket? _socket;
    private readonly Stream _stream;
    private readonly ITimer? _keepAlive;

    // Receive side: used only by the (single) pending ReceiveAsync.
    private readonly byte[] _receive;
    private int _start;
    private int _end;
    // The message being assembled (fragmented, or larger than the read buffer); rented, returned on the next receive.
    private byte[] _message = [];
    private int _messageLength;
    private bool _inMessage;
    private bool _messageHandedOut;
    private long _frameRemaining;
    private bool _frameFin;
    private bool _peerClosed;
    private WebSocketFrameRules.Refusal _refusal;

    // Send side: records are composed by the single data writer without a lock; every write to the stream (a batch or
    // a control frame) holds _sendLock, so frames never interleave.
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private byte[] _output = [];
    private int _pending;
    private readonly byte[] _maskKeys = new byte[256 * sizeof(uint)];
    private int _maskKeyOffset = 256 * sizeof(uint);
    private int _closeSent;
    private int _pongInFlight;
    private int _disposed;

    private enum Outcome { NeedMore, Record, PeerClose, Refused }

    private WebSocketClientChannel(Socket? socket, Stream stream, byte[] receive, int start, int end, string? subprotocol, int maxIncomingRecordSize, TimeSpan keepAliveInterval)
    {
        _socket = socket;
        _stream = stream;
        _receive = receive;
        _start = start;
        _end = end;
        SubProtocol = subprotocol;
        MaxIncomingRecordSize = maxIncomingRecordSize;
        if (keepAliveInterval > TimeSpan.Zero && keepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            // The ticks must not carry the caller's async-locals for the connection's lifetime.
            using (ExecutionContext.SuppressFlow())
            {
                _keepAlive = TimeProvider.System.CreateTimer(static state => ((WebSocketClientChannel)state!).SendHeartbeat(),
                    this, keepAliveInterval, keepAliveInterval);
            }
        }
    }

    /// <summary>
    /// Connects to <paramref name="uri"/> (<c>ws</c> or <c>wss</c>), performs the opening handshake offering
    /// <see cref="MoqWebSocketClientOptions.Subprotocols"/>, and returns the channel.
    /// </summary>
    /// <exception cref="WebSocketConnectException">The upgrade was refused or invalid, timed out, or the network or TLS failed.</exception>
    public static async Task<WebSocketClientChannel> ConnectAsync(Uri uri, MoqWebSocketClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(options);
        var secure = uri.Scheme switch
        {
            "ws" => false,
            "wss" => true,
            _ => throw new ArgumentException($"'{uri.Scheme}' is not a WebSocket scheme (ws or wss)", nameof(uri)),
        };
        var key = WebSocketClientHandshake.NewKey();
        var request = WebSocketClientHandshake.ComposeRequest(uri, key, options.Subprotocols, options.Headers);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(uri.IdnHost, uri.Port, timeout.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (secure)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = uri.IdnHost,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = options.CertificateValidation
                        ?? (options.VerifyCertificate ? null : static (_, _, _, _) => true),
                }, timeout.Token).ConfigureAwait(false);
            }

            await stream.WriteAsync(request, timeout.Token).ConfigureAwait(false);
            var receive = NewReceiveBuffer();
            var received = 0;
            int head;
            while (!WebSocketClientHandshake.TryFindHeadEnd(receive.AsSpan(0, received), out head))
            {
                if (received >= WebSocketClientHandshake.MaxResponseHeadBytes)
                {
                    throw new WebSocketConnectException($"websocket connect to {uri} failed: response head over {WebSocketClientHandshake.MaxResponseHeadBytes} bytes", null);
                }

                var read = await stream.ReadAsync(receive.AsMemory(received, WebSocketClientHandshake.MaxResponseHeadBytes - received), timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new WebSocketConnectException($"websocket connect to {uri} failed: the server closed the connection during the handshake", null);
                }

                received += read;
            }

            var answer = WebSocketClientHandshake.Check(receive.AsSpan(0, head), key, options.Subprotocols);
            if (answer.Error is { } error)
            {
                throw new WebSocketConnectException($"websocket connect to {uri} failed: {error}", answer.Status is 0 or 101 ? null : answer.Status);
            }

            return new WebSocketClientChannel(socket, stream, receive, head, received, answer.Subprotocol,
                options.QMux.MaxIncomingRecordSize, options.KeepAliveInterval);
        }
        catch (Exception e) when (e is not WebSocketConnectException)
        {
            await DropAsync(socket, stream).ConfigureAwait(false);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            var why = e switch
            {
                OperationCanceledException => $"timed out after {options.ConnectTimeout}",
                AuthenticationException => $"TLS failed: {e.Message}",
                _ => e.Message,
            };
            throw new WebSocketConnectException($"websocket connect to {uri} failed: {why}", null, e);
        }
        catch
        {
            await DropAsync(socket, stream).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The channel over a stream already past the opening handshake (no keep-alive), for benchmarks and tests that
    /// drive the framing without a socket.
    /// </summary>
    internal static WebSocketClientChannel OverStream(Stream stream, int maxIncomingRecordSize = WebSocketRecordChannel.DefaultMaxIncomingRecordSize) =>
        new(null, stream, NewReceiveBuffer(), 0, 0, null, maxIncomingRecordSize, TimeSpan.Zero);

    /// <summary>The read buffer: <see cref="ReceiveBufferSize"/> plus room for one frame header.</summary>
    private static byte[] NewReceiveBuffer() => new byte[ReceiveBufferSize + WebSocketFraming.MaxHeaderSize];

    private static async ValueTask DropAsync(Socket? socket, Stream? stream)
    {
        if (stream is not null)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }

        socket?.Dispose();
    }

    /// <inheritdoc />
    public int MaxRecordSize => WebSocketRecordChannel.DefaultMaxRecordSize;

    /// <summary>Largest message accepted from the peer; larger ones close the channel with 1009.</summary>
    public int MaxIncomingRecordSize { get; }

    /// <summary>The subprotocol the server selected; null when none.</summary>
    public string? SubProtocol { get; }

    /// <summary>The close status the peer sent, once its Close frame arrived (<see cref="WebSocketCloseStatus.Empty"/> for none).</summary>
    public WebSocketCloseStatus? PeerCloseStatus { get; private set; }

    /// <summary>The close reason the peer sent, once its Close frame arrived.</summary>
    public string? PeerCloseDescription { get; private set; }

    /// <inheritdoc />
    public int PendingBytes => _pending;

    /// <inheritdoc />
    public Span<byte> GetRecordSpan(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, MaxRecordSize);
        var needed = _pending + RecordHeaderRoom + maxLength;
        if (_output.Length < needed)
        {
            // First record of a batch, or a batch outgrowing its buffer: rent (at least 128 KiB, the usual batch).
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 128 * 1024));
            _output.AsSpan(0, _pending).CopyTo(grown);
            ReturnOutput();
            _output = grown;
        }

        return _output.AsSpan(_pending + RecordHeaderRoom, maxLength);
    }

    /// <inheritdoc />
    /// <remarks>Masks the record in place behind its header; a short record's header is 2 bytes smaller than the room
    /// reserved, so the record moves back by 2 bytes (at most 125 of them).</remarks>
    public void CommitRecord(int length)
    {
        if (length == 0)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxRecordSize);
        var mask = NextMaskKey();
        var record = _output.AsSpan(_pending + RecordHeaderRoom, length);
        WebSocketFraming.Unmask(record, record, mask, 0);
        var header = WebSocketFraming.WriteClientHeader(_output.AsSpan(_pending), WebSocketFraming.OpBinary, length, mask);
        if (header < RecordHeaderRoom)
        {
            record.CopyTo(_output.AsSpan(_pending + header));
        }

        _pending += header + length;
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_pending == 0)
        {
            return;
        }

        try
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not sent, and never will be: the caller gives the connection up.
            EndBatch();
            throw;
        }

        try
        {
            ThrowIfCloseSent();
            await _stream.WriteAsync(_output.AsMemory(0, _pending), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ConnectionClosedException && (e is IOException or SocketException or ObjectDisposedException))
        {
            throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket send failed: {e.Message}");
        }
        finally
        {
            EndBatch();
            _sendLock.Release();
        }
    }

    /// <summary>Forgets the batch (written or given up) and gives its buffer back: an idle channel holds none.</summary>
    private void EndBatch()
    {
        _pending = 0;
        ReturnOutput();
    }

    /// <inheritdoc />
    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        if (record.Length > MaxRecordSize)
        {
            throw new ArgumentOutOfRangeException(nameof(record), record.Length, $"record exceeds {MaxRecordSize} bytes");
        }

        ThrowIfCloseSent();
        record.Span.CopyTo(GetRecordSpan(record.Length));
        if (record.Length == 0)
        {
            // CommitRecord commits nothing for 0 bytes, but an empty message is still a record.
            var mask = NextMaskKey();
            _pending += WebSocketFraming.WriteClientHeader(_output.AsSpan(_pending), WebSocketFraming.OpBinary, 0, mask);
        }
        else
        {
            CommitRecord(record.Length);
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void ReturnOutput()
    {
        var output = _output;
        _output = [];
        if (output.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    private void ThrowIfCloseSent()
    {
        if (Volatile.Read(ref _closeSent) != 0)
        {
            throw new ConnectionClosedException(0, "websocket closed locally");
        }
    }

    /// <summary>The data writer's next masking key, drawn from a batch of cryptographically random keys.</summary>
    private uint NextMaskKey()
    {
        if (_maskKeyOffset == _maskKeys.Length)
        {
            RandomNumberGenerator.Fill(_maskKeys);
            _maskKeyOffset = 0;
        }

        var key = BitConverter.ToUInt32(_maskKeys, _maskKeyOffset);
        _maskKeyOffset += sizeof(uint);
        return key;
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_messageHandedOut)
        {
            // The previous (assembled) record is no longer needed.
            _messageHandedOut = false;
            _messageLength = 0;
            ReturnMessage();
        }

        if (_peerClosed)
        {
            return null;
        }

        while (true)
        {
            switch (Parse(out var record))
            {
                case Outcome.Record:
                    return record;
                case Outcome.PeerClose:
                    _peerClosed = true;
                    // Echo the peer's status (RFC 6455 §5.5.1) so it sees a clean shutdown.
                    await SendCloseAsync(PeerCloseStatus is { } status and not WebSocketCloseStatus.Empty ? status : WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
                    return null;
                case Outcome.Refused:
                    _peerClosed = true;
                    await SendCloseAsync(_refusal.Status, _refusal.CloseReason).ConfigureAwait(false);
                    throw new ConnectionClosedException(_refusal.Code, _refusal.Message);
            }

            // Move a partial frame to the front once the buffer's end is reached (the last record is no longer promised).
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_end == _receive.Length)
            {
                _receive.AsSpan(_start, _end - _start).CopyTo(_receive);
                _end -= _start;
                _start = 0;
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(_receive.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                _peerClosed = true;
                throw new ConnectionClosedException(MoqErrorCodeTransport, $"websocket receive failed: {e.Message}");
            }

            if (read == 0)
            {
                _peerClosed = true;
                throw new ConnectionClosedException(MoqErrorCodeTransport, "websocket receive failed: the connection ended without a Close frame");
            }

            _end += read;
        }
    }

    /// <summary>
    /// Consumes what the read buffer holds until a record is complete, the peer closed, its input is refused, or more
    /// bytes are needed. A whole unfragmented message in the buffer is handed out in place; others are assembled.
    /// </summary>
    private Outcome Parse(out ReadOnlyMemory<byte> record)
    {
        record = default;
        while (true)
        {
            var available = _end - _start;
            if (_frameRemaining > 0)
            {
                if (available == 0)
                {
                    return Outcome.NeedMore;
                }

                var take = (int)Math.Min(available, _frameRemaining);
                _receive.AsSpan(_start, take).CopyTo(_message.AsSpan(_messageLength));
                _messageLength += take;
                _start += take;
                _frameRemaining -= take;
                if (_frameRemaining > 0)
                {
                    return Outcome.NeedMore;
                }

                if (_frameFin)
                {
                    record = HandOutMessage();
                    return Outcome.Record;
                }

                continue;
            }

            if (!WebSocketFraming.TryReadHeader(_receive.AsSpan(_start, available), out var header, out var oversizedLength))
            {
                return Outcome.NeedMore;
            }

            if (WebSocketFrameRules.Check(header, oversizedLength, peerMasks: false, _inMessage, _messageLength, MaxIncomingRecordSize) is { } refusal)
            {
                _refusal = refusal;
                return Outcome.Refused;
            }

            var frameSize = header.HeaderSize + header.PayloadLength;
            if (WebSocketFraming.IsControl(header.Opcode))
            {
                // At most 2 + 125 bytes: always fits the buffer.
                if (available < frameSize)
                {
                    return Outcome.NeedMore;
                }

                var payload = _receive.AsSpan(_start + header.HeaderSize, (int)header.PayloadLength);
                _start += (int)frameSize;
                switch (header.Opcode)
                {
                    case WebSocketFraming.OpPing:
                        // One Pong in flight at most, so a server flooding Pings while not reading cannot pile them up
                        // (RFC 6455 §5.5.3 allows answering only some of them).
                        if (Interlocked.Exchange(ref _pongInFlight, 1) == 0)
                        {
                            _ = SendPongAsync(payload.ToArray());
                        }

                        continue;
                    case WebSocketFraming.OpPong:
                        continue;
                    default:
                        if (WebSocketFrameRules.ReadClose(payload, out var status, out var description) is { } badClose)
                        {
                            _refusal = badClose;
                            return Outcome.Refused;
                        }

                        PeerCloseStatus = status;
                        PeerCloseDescription = description;
                        return Outcome.PeerClose;
                }
            }

            var length = (int)header.PayloadLength; // Check bounded it by MaxIncomingRecordSize
            if (!_inMessage && header.Fin && frameSize <= _receive.Length)
            {
                // The common case: one whole message, handed out where it lies once all of it is in.
                if (available < frameSize)
                {
                    return Outcome.NeedMore;
                }

                record = _receive.AsMemory(_start + header.HeaderSize, length);
                _start += (int)frameSize;
                return Outcome.Record;
            }

            // Fragmented, or larger than the read buffer: its payload is copied out by the next rounds.
            _inMessage = true;
            EnsureMessageCapacity(_messageLength + length);
            _start += header.HeaderSize;
            _frameRemaining = length;
            _frameFin = header.Fin;
            if (length == 0 && header.Fin)
            {
                record = HandOutMessage();
                return Outcome.Record;
            }
        }
    }

    private ReadOnlyMemory<byte> HandOutMessage()
    {
        _inMessage = false;
        _messageHandedOut = true;
        return _message.AsMemory(0, _messageLength);
    }

    /// <summary>Makes room for <paramref name="size"/> message bytes (bounded by the caller), keeping what was assembled.</summary>
    private void EnsureMessageCapacity(int size)
    {
        if (size <= _message.Length)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(size, Math.Min(_message.Length * 2, MaxIncomingRecordSize)));
        _message.AsSpan(0, _messageLength).CopyTo(grown);
        ReturnMessage();
        _message = grown;
    }

    private void ReturnMessage()
    {
        var message = _message;
        _message = [];
        if (message.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Application code 0 maps to 1000 (normal closure), codes below 1000 to 4000 + code, larger ones to 1000 with the
    /// reason only (as <see cref="WebSocketRecordChannel.ToCloseStatus"/>). Never throws.
    /// </remarks>
    public ValueTask CloseAsync(ulong code, string reason) =>
        new(SendCloseAsync(WebSocketRecordChannel.ToCloseStatus(code), reason ?? ""));

    /// <summary>Sends our Close frame once (bounded in time); later sends fail. Drops the connection when it cannot be sent.</summary>
    private async Task SendCloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closeSent, 1) != 0)
        {
            return;
        }

        var reasonBytes = Encoding.UTF8.GetBytes(WebSocketRecordChannel.TruncateReason(reason));
        var payload = new byte[2 + reasonBytes.Length];
        payload[0] = (byte)((int)status >> 8);
        payload[1] = (byte)status;
        reasonBytes.CopyTo(payload, 2);
        if (!await SendControlAsync(WebSocketFraming.OpClose, payload, closing: true).ConfigureAwait(false))
        {
            await DropAsync(_socket, _stream).ConfigureAwait(false);
        }
    }

    private async Task SendPongAsync(byte[] payload)
    {
        await SendControlAsync(WebSocketFraming.OpPong, payload).ConfigureAwait(false);
        Volatile.Write(ref _pongInFlight, 0);
    }

    /// <summary>An unsolicited Pong as a heartbeat; skipped once closing.</summary>
    private void SendHeartbeat()
    {
        if (Volatile.Read(ref _closeSent) == 0)
        {
            _ = SendControlAsync(WebSocketFraming.OpPong, []);
        }
    }

    /// <summary>
    /// Writes one control frame between batches (bounded in time, never throws). False when it could not be written.
    /// After our Close only the Close itself (<paramref name="closing"/>) goes out.
    /// </summary>
    private async Task<bool> SendControlAsync(byte opcode, byte[] payload, bool closing = false)
    {
        var frame = new byte[WebSocketFraming.ClientHeaderSize(payload.Length) + payload.Length];
        Span<byte> key = stackalloc byte[sizeof(uint)];
        RandomNumberGenerator.Fill(key);
        var mask = BitConverter.ToUInt32(key);
        var header = WebSocketFraming.WriteClientHeader(frame, opcode, payload.Length, mask);
        WebSocketFraming.Unmask(payload, frame.AsSpan(header), mask, 0);
        var locked = false;
        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            locked = true;
            if (!closing && Volatile.Read(ref _closeSent) != 0)
            {
                return false;
            }

            await _stream.WriteAsync(frame, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer is gone or not reading: there is nobody left to tell.
            return false;
        }
        finally
        {
            if (locked)
            {
                _sendLock.Release();
            }
        }
    }

    /// <summary>Closes (1000) unless already closed, then drops the connection. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _keepAlive?.Dispose();
        await SendCloseAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
        await DropAsync(_socket, _stream).ConfigureAwait(false);
        // _sendLock is not disposed: a racing send may still wait on it, and it holds no unmanaged resources unless its
        // wait handle is used. The buffers are left to the collector: a receive may still be unwinding.
    }

    private const ulong MoqErrorCodeTransport = (ulong)Coding.MoqErrorCode.Transport;
}
