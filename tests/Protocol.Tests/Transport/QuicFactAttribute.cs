using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>A fact that is visibly skipped (with the reason) where System.Net.Quic cannot run, e.g. without libmsquic.</summary>
public sealed class QuicFactAttribute : FactAttribute
{
    public QuicFactAttribute()
    {
        if (!QuicMoqListener.IsSupported)
        {
            Skip = $"System.Net.Quic unsupported here: libmsquic missing ({QuicMoqListener.UnsupportedReason})";
        }
    }
}
