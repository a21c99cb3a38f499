using System.Net;
using MoqCluster.Edge.Relay;
using MoqCluster.Edge.Tls;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Edge.Listeners;

/// <summary>
/// The listeners for transports without a URL, next to Kestrel's WebSocket one: QMux over TCP
/// (<c>--Tcp:Listen=ADDR:PORT</c>, for edge-to-edge links and trusted workers) and raw QUIC
/// (<c>--Quic:Listen=ADDR:PORT</c>, when this platform has msquic). Their sessions are authorised from the
/// lite-05 SETUP path (<see cref="RelayHost.ServeAsync"/> with no grant).
/// </summary>
internal sealed class UrlLessListeners(RelayHost relay, ServerCertificate certificate, IConfiguration configuration, ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<UrlLessListeners>();

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("TLS certificate: {Source}, valid until {NotAfter:u}, sha256 {Hash}",
            certificate.Source, certificate.Certificate.NotAfter.ToUniversalTime(), certificate.Sha256Hex);
        var loops = new List<Task>();
        if (Endpoint("Tcp:Listen") is { } tcp)
            loops.Add(RunTcpAsync(tcp, stoppingToken));
        if (Endpoint("Quic:Listen") is { } quic)
        {
            if (QuicMoqListener.IsSupported)
                loops.Add(RunQuicAsync(quic, stoppingToken));
            else
                _logger.LogWarning("QUIC disabled: {Reason}", QuicMoqListener.UnsupportedReason);
        }
        return Task.WhenAll(loops);
    }

    private IPEndPoint? Endpoint(string key)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
            return null;
        // A port is required ("0" picks a free one); a bare address would silently mean port 0.
        if (IPEndPoint.TryParse(value, out var endpoint) && (endpoint.Port != 0 || value.EndsWith(":0", StringComparison.Ordinal)))
            return endpoint;
        _logger.LogError("--{Key}={Value} is not ADDRESS:PORT (e.g. 0.0.0.0:4444 or [::]:4444); listener not started", key, value);
        return null;
    }

    private async Task RunTcpAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        var listener = new QMuxTcpListener(endpoint, logger: loggers.CreateLogger<QMuxTcpListener>());
        await using (listener)
        {
            listener.Start();
            _logger.LogInformation("QMux over TCP listening on {Endpoint}", listener.LocalEndPoint);
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var connection = await listener.AcceptAsync(ct);
                    _ = relay.ServeAsync(connection, grant: null, "tcp");
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
                {
                    _logger.LogWarning("TCP accept failed: {Reason}", ex.Message);
                }
            }
        }
    }

    private async Task RunQuicAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        QuicMoqListener listener;
        try
        {
            listener = await QuicMoqListener.ListenAsync(new QuicMoqListenerOptions { EndPoint = endpoint, Certificate = certificate.Certificate }, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("QUIC disabled: cannot listen on {Endpoint}: {Reason}", endpoint, ex.Message);
            return;
        }
        await using (listener)
        {
            _logger.LogInformation("QUIC listening on {Endpoint} (ALPN {Alpns})", listener.LocalEndPoint, string.Join(", ", QuicMoqListener.DefaultApplicationProtocols));
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var connection = await listener.AcceptAsync(ct);
                    _ = relay.ServeAsync(connection, grant: null, "quic");
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
