namespace MoqCluster.Protocol.Coding;

/// <summary>
/// Bounds applied to everything decoded from a peer. Every value has a safe default; a relay
/// operator may tighten or relax them. Exceeding one is a <see cref="MoqErrorCode.BoundsExceeded"/> error.
/// </summary>
public sealed record ProtocolLimits
{
    /// <summary>Shared defaults.</summary>
    public static ProtocolLimits Default { get; } = new();

    /// <summary>Largest control message body (everything but frame payloads). Default 64 KiB.</summary>
    public int MaxMessageSize { get; init; } = 64 * 1024;

    /// <summary>Largest frame payload. Default 16 MiB.</summary>
    public int MaxFrameSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest string (track names, paths, reasons) in bytes. Default 4096.</summary>
    public int MaxStringLength { get; init; } = 4096;

    /// <summary>Most <c>/</c>-separated segments in a path. Default 32, as the clients and the reference relay.</summary>
    public int MaxPathSegments { get; init; } = 32;

    /// <summary>Most entries in an announce hop chain. Default 32.</summary>
    public int MaxHops { get; init; } = 32;

    /// <summary>Most parameters in a SETUP message. Default 64.</summary>
    public int MaxParameters { get; init; } = 64;

    /// <summary>Most versions listed in a legacy CLIENT_SETUP. Default 64.</summary>
    public int MaxVersions { get; init; } = 64;

    /// <summary>Most broadcasts in one ANNOUNCE_INIT or ANNOUNCE_OK initial set. Default 100 000.</summary>
    public int MaxAnnounceCount { get; init; } = 100_000;
}
