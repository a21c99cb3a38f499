namespace MoqCluster.Protocol.Messages;

/// <summary>The status byte of an ANNOUNCE (spec §4.3).</summary>
public enum AnnounceStatus : byte
{
    /// <summary>The broadcast went away.</summary>
    Ended = 0,
    /// <summary>The broadcast is live. On lite-05 the wire value 2 ("restart") also decodes to this.</summary>
    Active = 1,
}
