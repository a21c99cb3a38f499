using Microsoft.Extensions.Logging;

namespace MoqCluster.Protocol.Transport;

/// <summary>Builds the QMux connection that runs over a negotiated WebSocket record channel.</summary>
internal static class WebSocketMoqConnection
{
    /// <summary>Creates and starts the connection for <paramref name="selection"/> in the given role.</summary>
    /// <remarks>
    /// The application protocol is passed through as negotiated (null or <c>moql</c> = legacy SETUP). WebSocket
    /// sessions have a URL, so the connection is not URL-less: path and token come from the upgrade request.
    /// </remarks>
    public static QMuxConnection Create(
        IRecordChannel channel, SubprotocolSelection selection, bool isServer, QMuxOptions? options, ILogger? logger)
    {
        var connection = new QMuxConnection(
            channel, selection.WireFormat, isServer, selection.ApplicationProtocol, selection.TransportName, options, logger)
        {
            IsUrlLess = false,
        };
        connection.Start();
        return connection;
    }
}
