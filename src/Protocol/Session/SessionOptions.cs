using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Protocol.Session;

/// <summary>What a session publishes, where it puts what it learns, and how it negotiates.</summary>
public sealed class SessionOptions
{
    /// <summary>
    /// Broadcasts served to the peer (answers its ANNOUNCE_PLEASE, SUBSCRIBE, TRACK and FETCH); null = we
    /// publish nothing and refuse its requests.
    /// </summary>
    public OriginConsumer? Publish { get; set; }

    /// <summary>
    /// Where broadcasts the peer announces are published; the session sends one ANNOUNCE_PLEASE per
    /// allowed prefix. Null = we do not learn the peer's broadcasts.
    /// </summary>
    public OriginProducer? Subscribe { get; set; }

    /// <summary>Our origin (hop) id, non-zero and below 2^53 as the JavaScript clients require.</summary>
    public ulong OriginId { get; set; } = NewOriginId();

    /// <summary>Versions we accept, newest first.</summary>
    public IReadOnlyList<MoqVersion> Versions { get; set; } = MoqVersions.All;

    /// <summary>Bounds applied to everything the peer sends.</summary>
    public ProtocolLimits Limits { get; set; } = ProtocolLimits.Default;

    /// <summary>
    /// Client side on URL-less transports (raw QUIC, QMux over TCP) with lite-05: the path and query
    /// (e.g. <c>/demo?jwt=…</c>) sent in the SETUP Path parameter.
    /// </summary>
    public string? SetupPath { get; set; }

    /// <summary>Client side, lite-05: the role sent in SETUP (null = not sent, meaning both).</summary>
    public Messages.SetupRole? Role { get; set; }

    /// <summary>
    /// Server side: called once the version is known and, on lite-05, the peer's SETUP has arrived — before
    /// anything is served. It may set <see cref="SessionHandshake.Publish"/>/<see cref="SessionHandshake.Subscribe"/>
    /// (e.g. from the SETUP path on URL-less transports) or throw a <see cref="ProtocolException"/> to refuse.
    /// </summary>
    public Func<SessionHandshake, ValueTask>? OnHandshake { get; set; }

    /// <summary>How long an upstream subscription outlives its last downstream subscriber (avoids churn).</summary>
    public TimeSpan UpstreamLinger { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Bytes of recent groups each track subscribed from the peer keeps once every reader has passed them (its
    /// <see cref="Model.TrackProducer.CacheBytes"/>): what a later local reader may still start from. A relay keeps the
    /// default; a client that reads each track once, as it arrives, can keep far less and hold fewer payloads.
    /// </summary>
    public long SubscribedTrackCacheBytes { get; set; } = Model.TrackProducer.DefaultCacheBytes;

    /// <summary>Most group streams in flight per subscription; older ones become stale and are reset rather than queued.</summary>
    public int MaxGroupsInFlight { get; set; } = 32;

    /// <summary>How long the handshake may take (legacy SETUP, lite-05 SETUP).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long broadcasts the peer announced stay published after the session is lost (connection closed or
    /// failed) rather than deliberately ended, so a quickly reconnecting publisher resumes them. Zero (the default)
    /// unpublishes at once. An explicit <c>ended</c> or a closed Announce stream always unpublishes at once.
    /// </summary>
    public TimeSpan AbruptEndLinger { get; set; } = TimeSpan.Zero;

    /// <summary>Most subscriptions the peer may hold open on this session; more are reset with BoundsExceeded.</summary>
    public int MaxSubscriptions { get; set; } = 10_000;

    /// <summary>Most Announce requests (ANNOUNCE_PLEASE streams) the peer may hold open; more are reset with BoundsExceeded.</summary>
    public int MaxAnnounceRequests { get; set; } = 1_000;

    /// <summary>Requests refused for exceeding a limit before the session is closed with BoundsExceeded.</summary>
    public int MaxLimitViolations { get; set; } = 64;

    /// <summary>Logger for one line per session event or offence.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Session metrics sink; null = none.</summary>
    public ISessionObserver? Observer { get; set; }

    /// <summary>A random origin id in [1, 2^53).</summary>
    public static ulong NewOriginId() => (ulong)Random.Shared.NextInt64(1, 1L << 53);
}

/// <summary>What is known when a server-side session finishes negotiating.</summary>
public sealed class SessionHandshake
{
    /// <summary>The negotiated version.</summary>
    public required MoqVersion Version { get; init; }

    /// <summary>lite-05: the peer's SETUP Path (URL-less transports only), including any query.</summary>
    public string? SetupPath { get; init; }

    /// <summary>lite-05: the role the peer declared (Both when absent).</summary>
    public Messages.SetupRole Role { get; init; }

    /// <summary>The peer's origin id (lite-05 SETUP), 0 when unknown.</summary>
    public ulong PeerOrigin { get; init; }

    /// <summary>What the session will serve; may be replaced by the handshake callback.</summary>
    public OriginConsumer? Publish { get; set; }

    /// <summary>Where the session will publish the peer's broadcasts; may be replaced by the handshake callback.</summary>
    public OriginProducer? Subscribe { get; set; }
}

/// <summary>Receives per-session counters (the edge turns them into metrics). All members must be cheap and thread-safe.</summary>
public interface ISessionObserver
{
    /// <summary>A group was received from the peer.</summary>
    void GroupReceived(long frames, long bytes) { }

    /// <summary>A group was fully sent to the peer.</summary>
    void GroupSent(long frames, long bytes) { }

    /// <summary>A group to the peer was dropped before completion, with the reason code.</summary>
    void GroupDropped(Coding.MoqErrorCode reason) { }

    /// <summary>The peer subscribed to one of our tracks (+1) or left (-1).</summary>
    void Subscriptions(int delta) { }

    /// <summary>We subscribed upstream to the peer (+1) or stopped (-1).</summary>
    void UpstreamSubscriptions(int delta) { }

    /// <summary>An announcement was sent to the peer.</summary>
    void AnnounceSent() { }

    /// <summary>The peer announced a broadcast (+1) or it ended (-1), as seen by this session.</summary>
    void AnnouncesReceived(int delta) { }

    /// <summary>The peer opened an Announce request (ANNOUNCE_PLEASE) (+1) or closed it (-1).</summary>
    void AnnounceRequests(int delta) { }

    /// <summary>A request of the peer was refused for exceeding the named per-session limit.</summary>
    void LimitExceeded(string limit) { }

    /// <summary>The session was lost with announced broadcasts that now linger (count), before they end.</summary>
    void PublisherLingering(int broadcasts) { }
}
