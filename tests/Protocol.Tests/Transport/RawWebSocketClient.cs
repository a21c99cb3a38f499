using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// A WebSocket client over a bare TCP socket that sends exactly the bytes a test asks for (including frames a real
/// client never would) and reads the server's frames as they are on the wire.
/// </summary>
internal sealed class RawWebSocketClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocketClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>The status line's code and the response headers (names lower-case).</summary>
    public int StatusCode { get; private set; }

    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The standard header lines of a valid opening handshake; tests edit the list to break it.</summary>
    public static List<string> HandshakeHeaders(string key = "dGhlIHNhbXBsZSBub25jZQ==", string? protocol = "qmux-00")
    {
        var lines = new List<string>
        {
            "Upgrade: websocket",
            "Connection: Upgrade",
            $"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        };
        if (protocol is not null)
        {
            lines.Add($"Sec-WebSocket-Protocol: {protocol}");
        }

        return lines;
    }

    /// <summary>Connects and sends the request with <paramref name="headers"/> (default: a valid handshake); reads the response head.</summary>
    public static async Task<RawWebSocketClient> ConnectAsync(Uri baseUri, IEnumerable<string>? headers = null, string path = "/", CancellationToken cancellationToken = default)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUri.Host, baseUri.Port, cancellationToken);
        var client = new RawWebSocketClient(tcp);
        var request = new StringBuilder($"GET {path} HTTP/1.1\r\nHost: {baseUri.Authority}\r\n");
        foreach (var line in headers ?? HandshakeHeaders())
        {
            request.Append(line).Append("\r\n");
        }

        request.Append("\r\n");
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken);
        await client.ReadResponseHeadAsync(cancellationToken);
        return client;
    }

    private async Task ReadResponseHeadAsync(CancellationToken cancellationToken)
    {
        // Byte by byte so no frame bytes after the head are swallowed.
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            await _stream.ReadExactlyAsync(one, cancellationToken);
            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        StatusCode = int.Parse(lines[0].Split(' ')[1]);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            Headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
    }

    /// <summary>Builds one client frame: <paramref name="first"/> is the FIN/RSV/opcode byte; masked unless told otherwise.</summary>
    public static byte[] Frame(byte first, ReadOnlySpan<byte> payload, bool mask = true, ulong? declaredLength = null)
    {
        var length = declaredLength ?? (ulong)payload.Length;
        var header = new List<byte> { first };
        var maskBit = mask ? (byte)0x80 : (byte)0;
        if (length < 126 && declaredLength is null)
        {
            header.Add((byte)(maskBit | (byte)length));
        }
        else if (length <= ushort.MaxValue && declaredLength is null)
        {
            header.Add((byte)(maskBit | 126));
            header.Add((byte)(length >> 8));
            header.Add((byte)length);
        }
        else
        {
            header.Add((byte)(maskBit | 127));
            var wide = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(wide, length);
            header.AddRange(wide);
        }

        var key = mask ? RandomNumberGenerator.GetBytes(4) : [];
        header.AddRange(key);
        var body = payload.ToArray();
        for (var i = 0; mask && i < body.Length; i++)
        {
            body[i] ^= key[i & 3];
        }

        return [.. header, .. body];
    }

    public ValueTask SendAsync(byte[] bytes, CancellationToken cancellationToken = default) => _stream.WriteAsync(bytes, cancellationToken);

    public ValueTask SendFrameAsync(byte first, ReadOnlySpan<byte> payload, CancellationToken cancellationToken = default) =>
        SendAsync(Frame(first, payload), cancellationToken);

    /// <summary>One server frame: the first byte, the length encoding size used (1, 3 or 9 bytes), and the payload. Asserts it is unmasked.</summary>
    public async Task<(byte First, int LengthBytes, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        var head = new byte[2];
        await _stream.ReadExactlyAsync(head, cancellationToken);
        Assert.Equal(0, head[1] & 0x80); // servers never mask
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

        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, cancellationToken);
        return (head[0], lengthBytes, payload);
    }

    /// <summary>Reads frames until a Close; returns its status code (0 for none). Skips Pings and data.</summary>
    public async Task<int> ReadUntilCloseAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var (first, _, payload) = await ReadFrameAsync(cancellationToken);
            if ((first & 0x0F) == 0x8)
            {
                return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 0;
            }
        }
    }

    /// <summary>True when the server closed the TCP connection (reads hit end of stream within the timeout).</summary>
    public async Task<bool> IsClosedByServerAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        try
        {
            while (await _stream.ReadAsync(buffer, cancellationToken) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
