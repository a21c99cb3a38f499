using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// The server side of the RFC 6455 §4.2 opening handshake for HTTP/1.1 upgrades: checks the request and computes
/// <c>Sec-WebSocket-Accept</c>. Used by <see cref="WebSocketServerChannel"/>, which does its own framing instead of
/// ASP.NET Core's WebSocket middleware.
/// </summary>
public static class WebSocketHandshake
{
    /// <summary>The only protocol version we speak (RFC 6455 §4.1).</summary>
    public const string SupportedVersion = "13";

    /// <summary>Appended to the client's key before hashing (RFC 6455 §1.3).</summary>
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>A base64 16-byte key is 24 characters; anything much longer is not a key.</summary>
    private const int MaxKeyLength = 64;

    /// <summary>
    /// True when the request asks for a WebSocket upgrade at all (an <c>Upgrade: websocket</c> header), valid or not;
    /// such a request deserves a WebSocket-specific refusal rather than whatever the app answers to plain HTTP.
    /// </summary>
    public static bool IsUpgradeAttempt(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return HasToken(request.Headers.Upgrade, "websocket");
    }

    /// <summary>
    /// Checks an HTTP/1.1 upgrade request. Returns null when it is a valid WebSocket opening handshake; otherwise the
    /// HTTP status to answer (400, or 426 for an unsupported <c>Sec-WebSocket-Version</c>) and why.
    /// </summary>
    public static (int StatusCode, string Reason)? Validate(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!HttpMethods.IsGet(request.Method))
        {
            return (StatusCodes.Status400BadRequest, "a WebSocket upgrade must be a GET");
        }

        var headers = request.Headers;
        if (!HasToken(headers.Upgrade, "websocket"))
        {
            return (StatusCodes.Status400BadRequest, "missing Upgrade: websocket");
        }

        if (!HasToken(headers.Connection, "upgrade"))
        {
            return (StatusCodes.Status400BadRequest, "missing Connection: upgrade");
        }

        // A missing or different version gets 426 with the version we speak (RFC 6455 §4.4), so the client may retry.
        if (headers.SecWebSocketVersion.Count != 1 || headers.SecWebSocketVersion[0]?.Trim() != SupportedVersion)
        {
            return (StatusCodes.Status426UpgradeRequired, $"Sec-WebSocket-Version must be {SupportedVersion}");
        }

        if (!IsValidKey(headers.SecWebSocketKey))
        {
            return (StatusCodes.Status400BadRequest, "Sec-WebSocket-Key must be 16 bytes in base64");
        }

        return null;
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> value for a client key: base64(SHA-1(key + RFC GUID)).</summary>
    public static string ComputeAccept(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> input = stackalloc byte[MaxKeyLength + KeyGuid.Length];
        var length = Encoding.ASCII.GetBytes(key.Trim(), input);
        length += Encoding.ASCII.GetBytes(KeyGuid, input[length..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..length], hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>Exactly one key that decodes to 16 bytes (RFC 6455 §4.2.1 item 5).</summary>
    private static bool IsValidKey(StringValues values)
    {
        if (values.Count != 1 || values[0] is not { } raw)
        {
            return false;
        }

        var key = raw.AsSpan().Trim();
        if (key.Length == 0 || key.Length > MaxKeyLength)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[16];
        return Convert.TryFromBase64Chars(key, decoded, out var written) && written == 16;
    }

    /// <summary>True when a comma-separated header (possibly repeated) contains <paramref name="token"/>, ignoring case.</summary>
    internal static bool HasToken(StringValues values, string token)
    {
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan()[range].Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
