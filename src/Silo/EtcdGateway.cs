using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace MoqCluster.Silo;

/// <summary>
/// HTTP client for etcd 3.4's JSON gateway over several member endpoints: every call is a POST of
/// one JSON body, tried on the endpoint that answered last, then on the others in turn, each
/// attempt bounded by the request timeout. Failover is per call, so a killed member costs one
/// failed connect (or one timeout for a hung one), and the quorum carries on.
/// </summary>
internal sealed class EtcdGateway : IDisposable
{
    // gRPC codes worth trying on another member: DeadlineExceeded, ResourceExhausted, Aborted,
    // Unavailable ("no leader", "leader changed", "request timed out").
    private static readonly HashSet<int> RetryableCodes = [4, 8, 10, 14];
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly Uri[] _endpoints;
    private readonly HttpClient _http;
    private readonly ILogger _log;
    private int _preferred;

    public EtcdGateway(IReadOnlyList<Uri> endpoints, TimeSpan requestTimeout, ILogger log)
    {
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("at least one etcd endpoint is needed", nameof(endpoints));
        }

        _endpoints = [.. endpoints];
        RequestTimeout = requestTimeout;
        _log = log;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = requestTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = ConnectWithKeepAliveAsync,
        };
        // Per-call deadlines come from cancellation tokens; watches must be able to stay open for ever.
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public IReadOnlyList<Uri> Endpoints => _endpoints;

    public TimeSpan RequestTimeout { get; }

    /// <summary>The endpoint index the next call starts with: the last one that answered.</summary>
    public int Preferred => Volatile.Read(ref _preferred);

    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        string path,
        TRequest request,
        JsonTypeInfo<TRequest> requestInfo,
        JsonTypeInfo<TResponse> responseInfo,
        CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestInfo);
        var start = Preferred;
        Exception? last = null;
        for (var i = 0; i < _endpoints.Length; i++)
        {
            var index = (start + i) % _endpoints.Length;
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(RequestTimeout);
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = Json;
                using var response = await _http.PostAsync(new Uri(_endpoints[index], path), content, attempt.Token).ConfigureAwait(false);
                var bytes = await response.Content.ReadAsByteArrayAsync(attempt.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    var parsed = JsonSerializer.Deserialize(bytes, responseInfo)
                        ?? throw new JsonException($"etcd answered {path} with null");
                    Volatile.Write(ref _preferred, index);
                    return parsed;
                }

                var error = ParseError(bytes, (int)response.StatusCode);
                if (!RetryableCodes.Contains(error.GrpcCode) && (int)response.StatusCode < 500)
                {
                    throw error;
                }

                last = error;
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                last = new TimeoutException($"no answer within {RequestTimeout.TotalMilliseconds} ms", e);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                last = e;
            }

            _log.LogDebug("etcd {Endpoint}{Path} failed: {Error}", _endpoints[index], path, last.Message);
        }

        throw new ClusterStoreUnavailableException($"no etcd endpoint answered {path}: {last?.Message}", last);
    }

    /// <summary>
    /// Open a streaming POST on one endpoint and return once the response headers arrived (bounded
    /// by the request timeout); the body is then read for as long as <paramref name="connection"/> lives.
    /// </summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(int index, string path, byte[] body, CancellationTokenSource connection)
    {
        connection.CancelAfter(RequestTimeout);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_endpoints[index], path))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = Json;
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connection.Token).ConfigureAwait(false);
        connection.CancelAfter(Timeout.InfiniteTimeSpan);
        if (!response.IsSuccessStatusCode)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(connection.Token).ConfigureAwait(false);
            response.Dispose();
            throw ParseError(bytes, (int)response.StatusCode);
        }

        Volatile.Write(ref _preferred, index);
        return response;
    }

    public void Dispose() => _http.Dispose();

    internal static EtcdRequestException ParseError(byte[] body, int status)
    {
        try
        {
            var error = JsonSerializer.Deserialize(body, EtcdJsonContext.Default.EtcdErrorBody);
            if (error is not null)
            {
                return new EtcdRequestException(error.Message ?? error.Error ?? $"HTTP {status}", error.Code, status);
            }
        }
        catch (JsonException)
        {
            // Not etcd's error shape (a proxy page, say): report the status alone.
        }

        return new EtcdRequestException($"HTTP {status}", 0, status);
    }

    /// <summary>
    /// TCP keepalive on every connection so a watch on a member whose host vanished (no FIN, no
    /// RST) fails within seconds instead of hanging: etcd itself sends nothing on an idle watch.
    /// </summary>
    private static async ValueTask<Stream> ConnectWithKeepAliveAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 5);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 1);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
