using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace MoqCluster.Protocol.Transport;

/// <summary>Accepts QMux-over-TCP connections (see <see cref="QMuxTcpClient"/> for the format).</summary>
public sealed class QMuxTcpListener : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly QMuxOptions? _options;
    private readonly ILogger? _logger;

    /// <summary>Creates a listener on <paramref name="endpoint"/> (port 0 picks a free port); call <see cref="Start"/>.</summary>
    public QMuxTcpListener(IPEndPoint endpoint, QMuxOptions? options = null, ILogger? logger = null)
    {
        _listener = new TcpListener(endpoint);
        _options = options;
        _logger = logger;
    }

    /// <summary>The bound endpoint (with the actual port once started).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Starts listening.</summary>
    public void Start() => _listener.Start();

    /// <summary>Accepts the next TCP connection and returns it as a started server-side <see cref="QMuxConnection"/>.</summary>
    public async Task<QMuxConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var socket = await _listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
        return QMuxTcpClient.Create(socket, isServer: true, _options, _logger);
    }

    /// <summary>Stops listening; accepted connections are unaffected.</summary>
    public ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }
}
