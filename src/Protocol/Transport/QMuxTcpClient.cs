using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Connects to a QMux-over-TCP relay endpoint: qmux-01 records with varint length prefixes
/// (<see cref="TcpRecordChannel"/>) carrying <c>moq-lite-05</c>. TCP has no URL, so the connection is
/// URL-less: the lite-05 SETUP carries path and token.
/// </summary>
public static class QMuxTcpClient
{
    /// <summary>The moq-lite version spoken over QMux/TCP.</summary>
    public const string ApplicationProtocol = "moq-lite-05";

    /// <summary><see cref="IMoqConnection.TransportName"/> of QMux/TCP connections.</summary>
    public const string TransportName = "tcp/qmux-01";

    /// <summary>Connects to <paramref name="endpoint"/> and returns a started client connection.</summary>
    public static async Task<QMuxConnection> ConnectAsync(IPEndPoint endpoint, QMuxOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return Create(socket, isServer: false, options, logger);
    }

    /// <summary>Resolves <paramref name="host"/>, connects, and returns a started client connection.</summary>
    public static async Task<QMuxConnection> ConnectAsync(string host, int port, QMuxOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
            throw new SocketException((int)SocketError.HostNotFound);
        return await ConnectAsync(new IPEndPoint(addresses[0], port), options, logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Wraps a connected socket in a started QMux/TCP connection.</summary>
    internal static QMuxConnection Create(Socket socket, bool isServer, QMuxOptions? options, ILogger? logger)
    {
        var channel = new TcpRecordChannel(socket);
        var connection = new QMuxConnection(channel, QMuxWireFormat.Qmux01, isServer, ApplicationProtocol, TransportName, options, logger)
        {
            IsUrlLess = true,
        };
        connection.Start();
        return connection;
    }
}
