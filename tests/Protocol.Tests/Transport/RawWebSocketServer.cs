using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// A WebSocket server over a bare TCP listener on loopback that answers one client with exactly the bytes a test asks
/// for (including answers and frames a real server never would) and reads the client's frames as they are on the wire.
/// </summary>
internal sealed class RawWebSocketServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private TcpClient? _tcp;
    private NetworkStream? _stream;

    private RawWebSocketServer(TcpListener listener)
    {
        _listener = listener;
    }

    /// <summary>Listens on an ephemeral loopback port.</summary>
    public static RawWebSocketServer Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new RawWebSocketServer(listener);
    }

    /// <summary><c>ws://127.0.0.1:port</c> plus <paramref name="path"/>.</summary>
    public Uri Url(string path = "/") => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}");

    /// <summary>The request head the client sent (status line and headers).</summary>
    public string Request { get; private set; } = "";

    /// <summary>The value of one request header; null when absent.</summary>
    public string? RequestHeader(string name) =>
        Request.Split("\r\n").Skip(1).Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(parts => parts[1].Trim()).FirstOrDefault();

    /// <summary>The lines of a valid 101 for the request's key, selecting <paramref name="protocol"/> (none when null).</summary>
    public List<string> Accepting(string? protocol = "qmux-00.moq-lite-05")
    {
        var lines = new List<string>
        {
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            $"Sec-WebSocket-Accept: {WebSocketHandshake.ComputeAccept(RequestHeader("Sec-WebSocket-Key")!)}",
        };
        if (protocol is not null)
        {
            lines.Add($"Sec-WebSocket-Protocol: {protocol}");
        }

        return lines;
    }

    /// <summary>Accepts the client and reads its request head (byte by byte, so nothing after it is swallowed).</summary>
    public async Task AcceptAsync(CancellationToken cancellationToken)
    {
        _tcp = await _listener.AcceptTcpClientAsync(cancellationToken);
        _stream = _tcp.GetStream();
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            await _stream.ReadExactlyAsync(one, cancellationToken);
            head.Add(one[0]);
        }

        Request = Encoding.ASCII.GetString(head.ToArray());
    }

    /// <summary>Answers with <paramref name="lines"/> and the blank line, followed by <paramref name="trailing"/> in the same write.</summary>
    public ValueTask AnswerAsync(IEnumerable<string> lines, byte[]? trailing = null, CancellationToken cancellationToken = default)
    {
        var head = Encoding.ASCII.GetBytes(string.Concat(lines.Select(line => line + "\r\n")) + "\r\n");
        return SendAsync([.. head, .. trailing ?? []], cancellationToken);
    }

    /// <summary>One unmasked server frame (minimal length), or masked when a test wants to break the rules.</summary>
    public static byte[] Frame(byte first, ReadOnlySpan<byte> payload, bool mask = false, ulong? declaredLength = null) =>
        RawWebSocketClient.Frame(first, payload, mask, declaredLength);

    public ValueTask SendAsync(byte[] bytes, CancellationToken cancellationToken = default) => _stream!.WriteAsync(bytes, cancellationToken);

    /// <summary>Drops the connection without a Close frame.</summary>
    public void Drop() => _tcp?.Dispose();

    /// <summary>One client frame: first byte, length encoding size (1, 3 or 9 bytes), masking key and unmasked payload. Asserts it is masked.</summary>
    public async Task<(byte First, int LengthBytes, uint Key, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        var head = new byte[2];
        await _stream!.ReadExactlyAsync(head, cancellationToken);
        Assert.Equal(0x80, head[1] & 0x80); // clients always mask
        long length = head[1] & 0x7F;
        var lengthBytes = 1;
        if (length == 126)
        {
            var ext = new byte[2];
            await _stream.ReadExactlyAsync(ext, cancellationToken);
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
            lengthBytes = 3;
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await _stream.ReadExactlyAsync(ext, cancellationToken);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
            lengthBytes = 9;
        }

        var key = new byte[4];
        await _stream.ReadExactlyAsync(key, cancellationToken);
        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, cancellationToken);
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] ^= key[i & 3];
        }

        return (head[0], lengthBytes, BinaryPrimitives.ReadUInt32LittleEndian(key), payload);
    }

    /// <summary>Reads frames until a Close; returns its status code (0 for none).</summary>
    public async Task<int> ReadUntilCloseAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var (first, _, _, payload) = await ReadFrameAsync(cancellationToken);
            if ((first & 0x0F) == 0x8)
            {
                return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 0;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp?.Dispose();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
