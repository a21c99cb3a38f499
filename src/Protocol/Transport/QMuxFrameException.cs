namespace MoqCluster.Protocol.Transport;

/// <summary>The peer broke a QMux framing or flow-control rule; the connection closes with <see cref="Code"/>.</summary>
internal sealed class QMuxFrameException(ulong code, string message, ulong frameType = 0) : Exception(message)
{
    /// <summary>The transport error code (<see cref="QMuxTransportError"/>).</summary>
    public ulong Code { get; } = code;

    /// <summary>The type of the offending frame, echoed in CONNECTION_CLOSE.</summary>
    public ulong FrameType { get; } = frameType;
}
