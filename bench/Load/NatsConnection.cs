using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MoqCluster.Bench.Load;

/// <summary>
/// A minimal NATS client speaking the plain text protocol over one TCP socket: CONNECT, SUB, PUB, PING/PONG,
/// and a receive loop that hands every MSG payload to a callback. Enough for a fair fan-out comparison
/// (no NATS.Net package is available here).
/// </summary>
internal sealed class NatsConnection : IAsyncDisposable
{
    private const int ReceiveBufferSize = 1 << 20;
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly Action<int, ReadOnlyMemory<byte>> _onMessage;
    private readonly RunErrors _errors;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _pending = new(1 << 16);
    private readonly TaskCompletionSource _pong = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private byte[] _header = [];
    private string _headerSubject = "";
    private int _headerSize = -1;

    private NatsConnection(Socket socket, Action<int, ReadOnlyMemory<byte>> onMessage, RunErrors errors)
    {
        _socket = socket;
        _onMessage = onMessage;
        _errors = errors;
    }

    /// <summary>
    /// Connects, subscribes to <paramref name="subjects"/> (sid = index + 1) and returns after the server's
    /// PONG, i.e. once the subscriptions are registered. <paramref name="onMessage"/> gets the sid and payload.
    /// </summary>
    public static async Task<NatsConnection> ConnectAsync(EndPoint server, IReadOnlyList<string> subjects,
        Action<int, ReadOnlyMemory<byte>> onMessage, RunErrors errors, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new NatsConnection(socket, onMessage, errors);
        try
        {
            await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
            connection._receiving = connection.ReceiveAsync();
            var hello = new StringBuilder("CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,\"lang\":\"bench\",\"version\":\"0\"}\r\n");
            for (var i = 0; i < subjects.Count; i++)
                hello.Append("SUB ").Append(subjects[i]).Append(' ').Append(i + 1).Append("\r\n");
            hello.Append("PING\r\n");
            await connection.SendRawAsync(Encoding.ASCII.GetBytes(hello.ToString()), cancellationToken).ConfigureAwait(false);
            await connection._pong.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Queues <c>PUB subject n</c> with <paramref name="payload"/>; <see cref="FlushAsync"/> sends it.</summary>
    public void Publish(string subject, ReadOnlySpan<byte> payload)
    {
        if (_header.Length == 0 || subject != _headerSubject || payload.Length != _headerSize)
        {
            _header = Encoding.ASCII.GetBytes($"PUB {subject} {payload.Length}\r\n");
            _headerSubject = subject;
            _headerSize = payload.Length;
        }
        var n = _header.Length;
        var span = _pending.GetSpan(n + payload.Length + 2);
        _header.CopyTo(span);
        payload.CopyTo(span[n..]);
        Crlf.CopyTo(span[(n + payload.Length)..]);
        _pending.Advance(n + payload.Length + 2);
    }

    /// <summary>Sends everything queued by <see cref="Publish"/>.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.WrittenCount == 0)
            return;
        await SendRawAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _pending.ResetWrittenCount();
    }

    private async ValueTask SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (!bytes.IsEmpty)
            {
                var sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                bytes = bytes[sent..];
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[ReceiveBufferSize];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    if (!_stop.IsCancellationRequested)
                        _errors.Add("nats server closed the connection");
                    return;
                }
                end += read;
                start = await ParseAsync(buffer, start, end).ConfigureAwait(false);
                if (start == end)
                    start = end = 0;
                else if (end == buffer.Length)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
            }
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested)
        {
            _errors.Add("nats receive", ex);
        }
        catch (Exception)
        {
            // torn down
        }
    }

    /// <summary>Handles every complete protocol item in buffer[start..end); returns where the first incomplete one starts.</summary>
    private async ValueTask<int> ParseAsync(byte[] buffer, int start, int end)
    {
        while (start < end)
        {
            var lineLength = buffer.AsSpan(start, end - start).IndexOf(Crlf);
            if (lineLength < 0)
                return start;
            var line = buffer.AsSpan(start, lineLength);
            if (line.StartsWith("MSG "u8))
            {
                // MSG <subject> <sid> [reply-to] <#bytes>
                var sizeAt = line.LastIndexOf((byte)' ');
                var sidEnd = line[4..].IndexOf((byte)' ') + 4;
                var sidLength = line[(sidEnd + 1)..].IndexOf((byte)' ');
                if (!Utf8Parser.TryParse(line[(sizeAt + 1)..], out int size, out _) ||
                    !Utf8Parser.TryParse(line.Slice(sidEnd + 1, sidLength), out int sid, out _))
                    throw new InvalidDataException($"bad MSG line: {Encoding.ASCII.GetString(line)}");
                var payloadAt = start + lineLength + 2;
                if (payloadAt + size + 2 > end)
                    return start; // wait for the rest of the payload
                _onMessage(sid, buffer.AsMemory(payloadAt, size));
                start = payloadAt + size + 2;
                continue;
            }
            if (line.SequenceEqual("PING"u8))
                await SendRawAsync("PONG\r\n"u8.ToArray(), _stop.Token).ConfigureAwait(false);
            else if (line.SequenceEqual("PONG"u8))
                _pong.TrySetResult();
            else if (line.StartsWith("-ERR"u8))
                _errors.Add("nats: " + Encoding.ASCII.GetString(line));
            start += lineLength + 2;
        }
        return start;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        _socket.Dispose();
        try
        {
            await _receiving.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // already reported
        }
        _stop.Dispose();
    }
}
