namespace MoqCluster.Protocol.Messages;

/// <summary>The SETUP Probe parameter: what the sender can do on a Probe stream (spec §4.2, §4.7).</summary>
public enum ProbeLevel : ulong
{
    /// <summary>No probing; also the meaning of an absent parameter.</summary>
    None = 0,
    /// <summary>Sends PROBE reports.</summary>
    Report = 1,
    /// <summary>Can also raise its bitrate on request; every value ≥ 2 decodes to this.</summary>
    Increase = 2,
}
