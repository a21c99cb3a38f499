using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>Which stream types each version accepts (spec §3, §4.11).</summary>
public static class StreamTypes
{
    /// <summary>
    /// True when a peer may open a bidirectional stream of <paramref name="type"/> in
    /// <paramref name="version"/>. <see cref="StreamType.ClientSetup"/> is only valid as the first
    /// stream of a SETUP-negotiated session; the caller enforces "first".
    /// </summary>
    public static bool IsAllowed(this StreamType type, MoqVersion version) => type switch
    {
        StreamType.Announce or StreamType.Subscribe => true,
        StreamType.Fetch => version.HasTrackInfo(),
        StreamType.Probe => version.HasProbe(),
        StreamType.GoAway => version.HasGoAway(),
        StreamType.Track => version.HasTrackInfo(),
        StreamType.ClientSetup => version.UsesLegacySetup(),
        _ => false,
    };

    /// <summary>True when a peer may open a unidirectional stream of <paramref name="type"/> in <paramref name="version"/>.</summary>
    public static bool IsAllowed(this UniStreamType type, MoqVersion version) => type switch
    {
        UniStreamType.Group => true,
        UniStreamType.Setup => version.HasSetupStream(),
        _ => false,
    };
}
