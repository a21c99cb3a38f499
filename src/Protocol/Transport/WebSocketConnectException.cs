namespace MoqCluster.Protocol.Transport;

/// <summary>A MoQ WebSocket connect failed: refused upgrade (e.g. HTTP 400/401/403), timeout or network error.</summary>
public sealed class WebSocketConnectException(string message, int? statusCode, Exception? inner = null)
    : IOException(message, inner)
{
    /// <summary>The HTTP status the server answered instead of 101, when it answered at all.</summary>
    public int? StatusCode { get; } = statusCode;
}
