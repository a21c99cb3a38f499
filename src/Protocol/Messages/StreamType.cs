namespace MoqCluster.Protocol.Messages;

/// <summary>The <c>Stream Type (i)</c> that opens every bidirectional stream (spec §3).</summary>
public enum StreamType : ulong
{
    /// <summary>Legacy native session stream; no current client opens it, so it is treated as unexpected.</summary>
    Session = 0x0,
    /// <summary>Announce stream, opened by the side that wants to learn broadcasts.</summary>
    Announce = 0x1,
    /// <summary>Subscribe stream, one per subscription.</summary>
    Subscribe = 0x2,
    /// <summary>Fetch stream (lite-05 in practice).</summary>
    Fetch = 0x3,
    /// <summary>Probe stream (lite-03+).</summary>
    Probe = 0x4,
    /// <summary>Goaway stream (lite-04+).</summary>
    GoAway = 0x5,
    /// <summary>Track stream carrying TRACK / TRACK_INFO (lite-05+).</summary>
    Track = 0x6,
    /// <summary>Legacy CLIENT_SETUP; the type byte is also the message type (lite-01/02 negotiation).</summary>
    ClientSetup = 0x20,
}
