using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Session;

namespace MoqCluster.Grains;

/// <summary>
/// The observer of one cluster-link session: counts the upstream subscriptions this edge holds over it (the
/// "one per (edge, track)" invariant made visible) and forwards every event to the edge's own observer (metrics).
/// </summary>
internal sealed class LinkObserver(ISessionObserver? inner) : ISessionObserver
{
    private int _upstream;

    /// <summary>Live upstream subscriptions on this session.</summary>
    public int Upstream => Volatile.Read(ref _upstream);

    public void UpstreamSubscriptions(int delta)
    {
        Interlocked.Add(ref _upstream, delta);
        inner?.UpstreamSubscriptions(delta);
    }

    public void GroupReceived(long frames, long bytes) => inner?.GroupReceived(frames, bytes);

    public void GroupSent(long frames, long bytes) => inner?.GroupSent(frames, bytes);

    public void GroupDropped(MoqErrorCode reason) => inner?.GroupDropped(reason);

    public void Subscriptions(int delta) => inner?.Subscriptions(delta);

    public void AnnounceSent() => inner?.AnnounceSent();

    public void AnnouncesReceived(int delta) => inner?.AnnouncesReceived(delta);

    public void AnnounceRequests(int delta) => inner?.AnnounceRequests(delta);

    public void LimitExceeded(string limit) => inner?.LimitExceeded(limit);

    public void PublisherLingering(int broadcasts) => inner?.PublisherLingering(broadcasts);
}
