namespace MoqCluster.Protocol.Transport;

/// <summary>Connected in-process <see cref="IMoqConnection"/> pairs for testing sessions without sockets.</summary>
public static class InMemoryConnection
{
    /// <summary>
    /// Creates a started client/server pair: two <see cref="QMuxConnection"/>s over an
    /// <see cref="InMemoryRecordChannel"/> pair, so the full engine (flow control included) is exercised.
    /// </summary>
    /// <param name="applicationProtocol">Reported by both ends, e.g. <c>moq-lite-05</c>; null for legacy SETUP.</param>
    /// <param name="format">The framing; qmux-01 by default.</param>
    /// <param name="options">Limits for both ends; defaults when null.</param>
    /// <param name="isUrlLess">Value of <see cref="IMoqConnection.IsUrlLess"/> on both ends.</param>
    public static (IMoqConnection Client, IMoqConnection Server) CreatePair(
        string? applicationProtocol,
        QMuxWireFormat format = QMuxWireFormat.Qmux01,
        QMuxOptions? options = null,
        bool isUrlLess = false)
    {
        var (a, b) = InMemoryRecordChannel.CreatePair();
        var client = new QMuxConnection(a, format, isServer: false, applicationProtocol, "memory", options) { IsUrlLess = isUrlLess };
        var server = new QMuxConnection(b, format, isServer: true, applicationProtocol, "memory", options) { IsUrlLess = isUrlLess };
        client.Start();
        server.Start();
        return (client, server);
    }
}
