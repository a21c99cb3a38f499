namespace MoqCluster.Protocol.Coding;

/// <summary>The moq-lite versions this library speaks (spec §1.1). The value is the wire code.</summary>
public enum MoqVersion : uint
{
    /// <summary>moq-lite-01: legacy SETUP, SUBSCRIBE_OK with a priority byte.</summary>
    Lite01 = 0xff0dad01,
    /// <summary>moq-lite-02: legacy SETUP, empty SUBSCRIBE_OK.</summary>
    Lite02 = 0xff0dad02,
    /// <summary>moq-lite-03: protocol string, typed subscribe responses, hop count.</summary>
    Lite03 = 0xff0dad03,
    /// <summary>moq-lite-04: hop id lists, exclude-hop, GOAWAY, RTT in PROBE.</summary>
    Lite04 = 0xff0dad04,
    /// <summary>moq-lite-05: uni SETUP, ANNOUNCE_OK, TRACK_INFO, SUBSCRIBE_START/END, timestamps, FETCH.</summary>
    Lite05 = 0xff0dad05,
}

/// <summary>Version feature gates (spec §4.11) and protocol strings.</summary>
public static class MoqVersions
{
    /// <summary>The protocol string that selects legacy SETUP negotiation.</summary>
    public const string LegacyAlpn = "moql";

    /// <summary>Version code of IETF moq-transport draft-14, offered in legacy SETUP by the clients.</summary>
    public const uint IetfDraft14 = 0xff00000e;

    /// <summary>Every version, newest first (our preference order).</summary>
    public static IReadOnlyList<MoqVersion> All { get; } = [MoqVersion.Lite05, MoqVersion.Lite04, MoqVersion.Lite03, MoqVersion.Lite02, MoqVersion.Lite01];

    /// <summary>The protocol string (ALPN / WebTransport protocol / WebSocket suffix), or null for SETUP-negotiated versions.</summary>
    public static string? Alpn(this MoqVersion version) => version switch
    {
        MoqVersion.Lite03 => "moq-lite-03",
        MoqVersion.Lite04 => "moq-lite-04",
        MoqVersion.Lite05 => "moq-lite-05",
        _ => null,
    };

    /// <summary>Parses a protocol string; <c>moql</c> and unknown strings give null.</summary>
    public static MoqVersion? FromAlpn(string? alpn) => alpn switch
    {
        "moq-lite-03" => MoqVersion.Lite03,
        "moq-lite-04" => MoqVersion.Lite04,
        "moq-lite-05" => MoqVersion.Lite05,
        _ => null,
    };

    /// <summary>Short display name, e.g. <c>lite-04</c>.</summary>
    public static string Name(this MoqVersion version) => $"lite-0{(uint)version & 0xff}";

    /// <summary>lite-01/02: negotiated by CLIENT_SETUP/SERVER_SETUP with a session stream.</summary>
    public static bool UsesLegacySetup(this MoqVersion version) => version <= MoqVersion.Lite02;

    /// <summary>lite-05+: each side sends a SETUP on a uni stream.</summary>
    public static bool HasSetupStream(this MoqVersion version) => version >= MoqVersion.Lite05;

    /// <summary>lite-01/02: ANNOUNCE_INIT carries the initial set.</summary>
    public static bool HasAnnounceInit(this MoqVersion version) => version <= MoqVersion.Lite02;

    /// <summary>lite-05+: ANNOUNCE_OK precedes the initial set.</summary>
    public static bool HasAnnounceOk(this MoqVersion version) => version >= MoqVersion.Lite05;

    /// <summary>lite-03: announcements carry a hop count only.</summary>
    public static bool HasHopCount(this MoqVersion version) => version == MoqVersion.Lite03;

    /// <summary>lite-04+: announcements carry hop id lists.</summary>
    public static bool HasHopIds(this MoqVersion version) => version >= MoqVersion.Lite04;

    /// <summary>lite-04+: ANNOUNCE_PLEASE carries an exclude hop.</summary>
    public static bool HasExcludeHop(this MoqVersion version) => version >= MoqVersion.Lite04;

    /// <summary>lite-03+: SUBSCRIBE carries ordered, max latency, start and end; SUBSCRIBE_UPDATE exists.</summary>
    public static bool HasSubscribeOptions(this MoqVersion version) => version >= MoqVersion.Lite03;

    /// <summary>lite-03/04: typed SUBSCRIBE_OK / SUBSCRIBE_DROP.</summary>
    public static bool HasTypedSubscribeOk(this MoqVersion version) => version is MoqVersion.Lite03 or MoqVersion.Lite04;

    /// <summary>lite-05+: SUBSCRIBE_START / SUBSCRIBE_END instead of SUBSCRIBE_OK.</summary>
    public static bool HasSubscribeStart(this MoqVersion version) => version >= MoqVersion.Lite05;

    /// <summary>lite-05+: TRACK / TRACK_INFO, FETCH, frame timestamps, datagrams.</summary>
    public static bool HasTrackInfo(this MoqVersion version) => version >= MoqVersion.Lite05;

    /// <summary>lite-03+: PROBE streams.</summary>
    public static bool HasProbe(this MoqVersion version) => version >= MoqVersion.Lite03;

    /// <summary>lite-04+: PROBE carries RTT.</summary>
    public static bool HasProbeRtt(this MoqVersion version) => version >= MoqVersion.Lite04;

    /// <summary>lite-04+: GOAWAY streams.</summary>
    public static bool HasGoAway(this MoqVersion version) => version >= MoqVersion.Lite04;

    /// <summary>lite-05+: a duplicate active announce means "replaced"; earlier versions treat it as an error.</summary>
    public static bool AllowsAnnounceRestart(this MoqVersion version) => version >= MoqVersion.Lite05;

    /// <summary>lite-03+: unknown stream types reset only that stream.</summary>
    public static bool ResetsUnknownStreams(this MoqVersion version) => version >= MoqVersion.Lite03;
}
