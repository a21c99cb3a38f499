namespace MoqCluster.Protocol.Messages;

/// <summary>Parameter ids of the lite-05 SETUP message (spec §4.2).</summary>
public enum SetupParameterId : ulong
{
    /// <summary>Probe capability (integer).</summary>
    Probe = 0x1,
    /// <summary>Request path with optional <c>?query</c>, for URL-less transports (UTF-8).</summary>
    Path = 0x2,
    /// <summary>Client role (integer).</summary>
    Role = 0x3,
    /// <summary>Route cost; lite-06 only, so a lite-05 decoder keeps it as an unknown parameter.</summary>
    Cost = 0x4,
    /// <summary>The sender's origin (hop) id, 0 = none (integer).</summary>
    Origin = 0x5,
}
