namespace MoqCluster.Protocol.Transport;

/// <summary>Builds the QMux connection that runs over a negotiated WebSocket record channel.</summary>
internal static class WebSocketMoqConnection
{
    /// <summary>Creates the connection for <paramref name="selection"/> in the given role.</summary>
    public static IMoqConnection Create(IRecordChannel channel, SubprotocolSelection selection, bool isServer) =>
        // Filled in once h/qmux (QMuxConnection) is merged.
        throw new NotSupportedException("QMuxConnection is not available yet");
}
