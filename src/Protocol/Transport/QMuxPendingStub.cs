// TEMPORARY: stands in for h/qmux's QMuxWireFormat until that branch is merged; delete on merge.
namespace MoqCluster.Protocol.Transport;

/// <summary>Stand-in for the QMux engine's wire format enum (removed when h/qmux is merged).</summary>
public enum QMuxWireFormat
{
    /// <summary><c>webtransport</c> legacy framing.</summary>
    Legacy,
    /// <summary>QMux draft-00.</summary>
    Qmux00,
    /// <summary>QMux draft-01.</summary>
    Qmux01,
    /// <summary>QMux draft-02.</summary>
    Qmux02,
}
