using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// The client side of the RFC 6455 §4.1 opening handshake: composes the HTTP/1.1 upgrade request and checks the
/// server's answer (status 101, <c>Upgrade</c>, <c>Connection</c>, <c>Sec-WebSocket-Accept</c>, a subprotocol we offered,
/// no extension). The server's bytes are hostile: the answer is bounded and parsed without trusting any length.
/// </summary>
internal static class WebSocketClientHandshake
{
    /// <summary>Largest response head (status line and headers) we read before giving up.</summary>
    public const int MaxResponseHeadBytes = 16 * 1024;

    /// <summary>Headers the handshake itself sets; a caller's extra header may not replace them.</summary>
    private static readonly string[] ReservedHeaders =
        ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding"];

    /// <summary>A fresh <c>Sec-WebSocket-Key</c>: 16 random bytes in base64.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    /// <summary>The upgrade request for <paramref name="uri"/> (a <c>ws</c>/<c>wss</c> URL), its path and query verbatim.</summary>
    /// <exception cref="ArgumentException">An extra header is malformed or replaces one the handshake sets.</exception>
    public static byte[] ComposeRequest(Uri uri, string key, IReadOnlyList<string> subprotocols, IReadOnlyDictionary<string, string> headers)
    {
        var request = new StringBuilder(256);
        request.Append("GET ").Append(uri.PathAndQuery).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(uri.Authority).Append("\r\n");
        request.Append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
        request.Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n");
        request.Append("Sec-WebSocket-Version: ").Append(WebSocketHandshake.SupportedVersion).Append("\r\n");
        if (subprotocols.Count > 0)
        {
            request.Append("Sec-WebSocket-Protocol: ").AppendJoin(", ", subprotocols).Append("\r\n");
        }

        foreach (var (name, value) in headers)
        {
            if (!IsToken(name) || value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                throw new ArgumentException($"request header '{name}' is not a valid HTTP header", nameof(headers));
            }

            if (ReservedHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"request header '{name}' is set by the WebSocket handshake itself", nameof(headers));
            }

            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        request.Append("\r\n");
        return Encoding.UTF8.GetBytes(request.ToString());
    }

    /// <summary>The length of the response head including its blank line, once <paramref name="received"/> holds all of it.</summary>
    public static bool TryFindHeadEnd(ReadOnlySpan<byte> received, out int length)
    {
        var end = received.IndexOf("\r\n\r\n"u8);
        length = end < 0 ? 0 : end + 4;
        return end >= 0;
    }

    /// <summary>The server's answer to the upgrade.</summary>
    /// <param name="Status">The HTTP status, 0 when the status line is malformed.</param>
    /// <param name="Subprotocol">The selected subprotocol; null when none.</param>
    /// <param name="Error">Why the answer is refused; null when the handshake succeeded.</param>
    public readonly record struct Answer(int Status, string? Subprotocol, string? Error);

    /// <summary>Checks a complete response head against the request's key and offer.</summary>
    public static Answer Check(ReadOnlySpan<byte> head, string key, IReadOnlyList<string> offered)
    {
        // Latin-1 keeps every byte one char, so nothing the server sends can make decoding fail or shift positions.
        var text = Encoding.Latin1.GetString(head);
        var lines = text.Split("\r\n");
        var statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || statusLine[1].Length != 3 || !int.TryParse(statusLine[1], out var status))
        {
            return new Answer(0, null, "malformed HTTP status line");
        }

        if (status != 101)
        {
            return new Answer(status, null, $"HTTP {status} instead of 101 Switching Protocols");
        }

        var fields = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.AsSpan(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                return new Answer(status, null, "malformed response header");
            }

            var name = line[..colon];
            fields[name] = StringValues.Concat(fields.GetValueOrDefault(name), line[(colon + 1)..].Trim());
        }

        if (!WebSocketHandshake.HasToken(fields.GetValueOrDefault("Upgrade"), "websocket"))
        {
            return new Answer(status, null, "101 without Upgrade: websocket");
        }

        if (!WebSocketHandshake.HasToken(fields.GetValueOrDefault("Connection"), "upgrade"))
        {
            return new Answer(status, null, "101 without Connection: upgrade");
        }

        if (fields.GetValueOrDefault("Sec-WebSocket-Accept") is not { Count: 1 } accept || accept[0] != WebSocketHandshake.ComputeAccept(key))
        {
            return new Answer(status, null, "Sec-WebSocket-Accept does not match the key");
        }

        if (fields.GetValueOrDefault("Sec-WebSocket-Extensions") is { Count: > 0 } extensions && !string.IsNullOrEmpty(extensions.ToString()))
        {
            return new Answer(status, null, $"extension '{extensions}' was not offered");
        }

        string? subprotocol = null;
        if (fields.GetValueOrDefault("Sec-WebSocket-Protocol") is { Count: > 0 } chosen && !string.IsNullOrEmpty(chosen.ToString()))
        {
            subprotocol = chosen.Count == 1 ? chosen[0] : null;
            if (subprotocol is null || !offered.Contains(subprotocol, StringComparer.Ordinal))
            {
                return new Answer(status, null, $"subprotocol '{chosen}' was not offered");
            }
        }

        return new Answer(status, string.IsNullOrEmpty(subprotocol) ? null : subprotocol, null);
    }

    /// <summary>An RFC 9110 token (header names).</summary>
    private static bool IsToken(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is <= ' ' or >= (char)0x7F || "\"(),/:;<=>?@[\\]{}".Contains(c))
            {
                return false;
            }
        }

        return true;
    }
}
