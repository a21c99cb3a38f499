using System.Diagnostics;
using System.Diagnostics.Metrics;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Session;

namespace MoqCluster.Edge.Telemetry;

/// <summary>
/// The edge's metrics (meter <c>MoqCluster.Edge</c>): sessions, subscriptions, groups/frames/bytes in and out,
/// drops by reason, announcements, limits and auth failures. It is also every session's
/// <see cref="ISessionObserver"/>. Exported over OTLP when configured (see <see cref="TelemetryExport"/>).
/// </summary>
public sealed class EdgeMetrics : ISessionObserver
{
    /// <summary>The meter name to listen to or export.</summary>
    public const string MeterName = "MoqCluster.Edge";

    private readonly UpDownCounter<long> _sessions;
    private readonly Counter<long> _sessionsOpened;
    private readonly Counter<long> _sessionsClosed;
    private readonly Counter<long> _sessionsRefused;
    private readonly Counter<long> _authFailures;
    private readonly UpDownCounter<long> _subscriptions;
    private readonly Counter<long> _subscriptionsOpened;
    private readonly UpDownCounter<long> _upstreamSubscriptions;
    private readonly Counter<long> _upstreamSubscriptionsOpened;
    private readonly Counter<long> _groupsReceived;
    private readonly Counter<long> _framesReceived;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _groupsSent;
    private readonly Counter<long> _framesSent;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _groupsDropped;
    private readonly Counter<long> _announcesSent;
    private readonly UpDownCounter<long> _announces;
    private readonly Counter<long> _announcesReceived;
    private readonly UpDownCounter<long> _announceRequests;
    private readonly Counter<long> _limitsExceeded;
    private readonly Counter<long> _lingering;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public EdgeMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _sessions = Meter.CreateUpDownCounter<long>("moq.edge.sessions", "{session}", "Live sessions, by version and transport.");
        _sessionsOpened = Meter.CreateCounter<long>("moq.edge.sessions.opened", "{session}", "Sessions established, by version and transport.");
        _sessionsClosed = Meter.CreateCounter<long>("moq.edge.sessions.closed", "{session}", "Sessions ended, by version and transport.");
        _sessionsRefused = Meter.CreateCounter<long>("moq.edge.sessions.refused", "{session}", "Session attempts refused before or during the handshake, by reason.");
        _authFailures = Meter.CreateCounter<long>("moq.edge.auth.failures", "{failure}", "Rejected credentials, by reason.");
        _subscriptions = Meter.CreateUpDownCounter<long>("moq.edge.subscriptions", "{subscription}", "Live subscriptions served to peers.");
        _subscriptionsOpened = Meter.CreateCounter<long>("moq.edge.subscriptions.opened", "{subscription}", "Subscriptions served to peers, total.");
        _upstreamSubscriptions = Meter.CreateUpDownCounter<long>("moq.edge.upstream_subscriptions", "{subscription}", "Live subscriptions this edge holds towards publishers.");
        _upstreamSubscriptionsOpened = Meter.CreateCounter<long>("moq.edge.upstream_subscriptions.opened", "{subscription}", "Subscriptions this edge opened towards publishers, total.");
        _groupsReceived = Meter.CreateCounter<long>("moq.edge.groups.received", "{group}", "Groups received complete from publishers.");
        _framesReceived = Meter.CreateCounter<long>("moq.edge.frames.received", "{frame}", "Frames received in complete groups.");
        _bytesReceived = Meter.CreateCounter<long>("moq.edge.bytes.received", "By", "Frame payload bytes received in complete groups.");
        _groupsSent = Meter.CreateCounter<long>("moq.edge.groups.sent", "{group}", "Groups sent complete to subscribers.");
        _framesSent = Meter.CreateCounter<long>("moq.edge.frames.sent", "{frame}", "Frames sent in complete groups.");
        _bytesSent = Meter.CreateCounter<long>("moq.edge.bytes.sent", "By", "Frame payload bytes sent in complete groups.");
        _groupsDropped = Meter.CreateCounter<long>("moq.edge.groups.dropped", "{group}", "Groups to subscribers reset before completion, by reason code name.");
        _announcesSent = Meter.CreateCounter<long>("moq.edge.announces.sent", "{announce}", "Announcements (active or ended) sent to peers.");
        _announces = Meter.CreateUpDownCounter<long>("moq.edge.announces", "{broadcast}", "Broadcasts currently announced to this edge by its peers (lingering ones included).");
        _announcesReceived = Meter.CreateCounter<long>("moq.edge.announces.received", "{broadcast}", "Broadcasts announced to this edge by its peers, total.");
        _announceRequests = Meter.CreateUpDownCounter<long>("moq.edge.announce_requests", "{request}", "Live Announce requests (ANNOUNCE_PLEASE) from peers.");
        _limitsExceeded = Meter.CreateCounter<long>("moq.edge.limits.exceeded", "{request}", "Requests refused for exceeding a per-session limit, by limit.");
        _lingering = Meter.CreateCounter<long>("moq.edge.publishers.lingering", "{broadcast}", "Broadcasts kept announced after their publisher's session was lost.");
    }

    /// <summary>The meter every instrument belongs to.</summary>
    public Meter Meter { get; }

    /// <summary>Publishes observable gauges: the broadcasts in the origin table and the live session count.</summary>
    public void Observe(Func<int> broadcasts, Func<int> liveSessions)
    {
        Meter.CreateObservableGauge("moq.edge.broadcasts", broadcasts, "{broadcast}", "Paths in the origin table with at least one publisher.");
        Meter.CreateObservableGauge("moq.edge.sessions.live", liveSessions, "{session}", "Sessions currently tracked for draining.");
    }

    /// <summary>A session finished its handshake.</summary>
    public void SessionOpened(MoqVersion version, string transport)
    {
        var tags = SessionTags(version, transport);
        _sessions.Add(1, tags);
        _sessionsOpened.Add(1, tags);
    }

    /// <summary>A session that was opened has ended.</summary>
    public void SessionClosed(MoqVersion version, string transport)
    {
        var tags = SessionTags(version, transport);
        _sessions.Add(-1, tags);
        _sessionsClosed.Add(1, tags);
    }

    /// <summary>A session attempt was refused (<paramref name="reason"/>: unauthorized, forbidden, draining, handshake).</summary>
    public void SessionRefused(string reason) => _sessionsRefused.Add(1, new KeyValuePair<string, object?>("moq.reason", reason));

    /// <summary>Credentials were rejected; call from the authorisation code with a short, bounded reason (e.g. <c>expired</c>).</summary>
    public void AuthFailed(string reason) => _authFailures.Add(1, new KeyValuePair<string, object?>("moq.reason", reason));

    /// <inheritdoc />
    public void GroupReceived(long frames, long bytes)
    {
        _groupsReceived.Add(1);
        _framesReceived.Add(frames);
        _bytesReceived.Add(bytes);
    }

    /// <inheritdoc />
    public void GroupSent(long frames, long bytes)
    {
        _groupsSent.Add(1);
        _framesSent.Add(frames);
        _bytesSent.Add(bytes);
    }

    /// <inheritdoc />
    public void GroupDropped(MoqErrorCode reason) => _groupsDropped.Add(1, new KeyValuePair<string, object?>("moq.reason", ReasonName(reason)));

    /// <inheritdoc />
    public void Subscriptions(int delta)
    {
        _subscriptions.Add(delta);
        if (delta > 0)
            _subscriptionsOpened.Add(delta);
    }

    /// <inheritdoc />
    public void UpstreamSubscriptions(int delta)
    {
        _upstreamSubscriptions.Add(delta);
        if (delta > 0)
            _upstreamSubscriptionsOpened.Add(delta);
    }

    /// <inheritdoc />
    public void AnnounceSent() => _announcesSent.Add(1);

    /// <inheritdoc />
    public void AnnouncesReceived(int delta)
    {
        _announces.Add(delta);
        if (delta > 0)
            _announcesReceived.Add(delta);
    }

    /// <inheritdoc />
    public void AnnounceRequests(int delta) => _announceRequests.Add(delta);

    /// <inheritdoc />
    public void LimitExceeded(string limit) => _limitsExceeded.Add(1, new KeyValuePair<string, object?>("moq.limit", limit));

    /// <inheritdoc />
    public void PublisherLingering(int broadcasts) => _lingering.Add(broadcasts);

    private static TagList SessionTags(MoqVersion version, string transport) => new()
    {
        { "moq.version", version.Name() },
        { "moq.transport", transport },
    };

    private static string ReasonName(MoqErrorCode code) => Enum.IsDefined(code) ? code.ToString() : $"code-{(ulong)code}";
}
