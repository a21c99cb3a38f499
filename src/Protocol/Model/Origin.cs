using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// The table of live broadcasts keyed by absolute path, with announcement listeners. Several publishers
/// may serve one path; the most recent one is active and the others are standbys that take over, in
/// reverse order of arrival, when it leaves. Views (<see cref="OriginProducer"/>, <see cref="OriginConsumer"/>)
/// scope it to a session's root and grants.
/// </summary>
public sealed class Origin
{
    private readonly object _lock = new();
    private readonly Dictionary<MoqPath, List<Publication>> _paths = [];
    private readonly List<AnnouncedConsumer> _listeners = [];

    /// <summary>Number of paths with at least one publisher.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _paths.Count;
        }
    }

    /// <summary>A publishing view rooted at <paramref name="root"/> limited to <paramref name="allowed"/> prefixes (relative; null = everything).</summary>
    public OriginProducer Producer(MoqPath root = default, IReadOnlyList<MoqPath>? allowed = null) => new(this, root, allowed ?? [MoqPath.Empty]);

    /// <summary>A consuming view rooted at <paramref name="root"/> limited to <paramref name="allowed"/> prefixes (relative; null = everything).</summary>
    public OriginConsumer Consumer(MoqPath root = default, IReadOnlyList<MoqPath>? allowed = null) => new(this, root, allowed ?? [MoqPath.Empty]);

    /// <summary>Publishes <paramref name="broadcast"/> at an absolute path; dispose the result to unpublish.</summary>
    public Publication Publish(MoqPath path, BroadcastConsumer broadcast, IReadOnlyList<ulong>? hops = null)
    {
        var publication = new Publication(this, path, broadcast, hops ?? []);
        lock (_lock)
        {
            if (!_paths.TryGetValue(path, out var list))
                _paths[path] = list = [];
            list.Add(publication);
            // Delivered under the lock (a non-blocking enqueue) so a concurrent Listen sees it exactly once.
            foreach (var l in _listeners)
                l.Deliver(path, publication);
        }
        // Unpublish automatically when the broadcast ends.
        _ = broadcast.Closed.ContinueWith(static (_, state) => ((Publication)state!).Dispose(), publication,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return publication;
    }

    /// <summary>The broadcast active at an absolute path, or null.</summary>
    public BroadcastConsumer? Find(MoqPath path)
    {
        lock (_lock)
            return _paths.TryGetValue(path, out var list) && list.Count > 0 ? list[^1].Broadcast : null;
    }

    /// <summary>The active publication at an absolute path, or null.</summary>
    public Publication? FindPublication(MoqPath path)
    {
        lock (_lock)
            return _paths.TryGetValue(path, out var list) && list.Count > 0 ? list[^1] : null;
    }

    internal void Unpublish(Publication publication)
    {
        Publication? successor = null;
        bool wasActive;
        lock (_lock)
        {
            if (!_paths.TryGetValue(publication.Path, out var list))
                return;
            var index = list.IndexOf(publication);
            if (index < 0)
                return;
            wasActive = index == list.Count - 1;
            list.RemoveAt(index);
            if (list.Count == 0)
                _paths.Remove(publication.Path);
            else
                successor = list[^1];
            if (wasActive)
                foreach (var l in _listeners)
                    l.Deliver(publication.Path, successor);
        }
    }

    internal AnnouncedConsumer Listen(MoqPath root, MoqPath prefix, IReadOnlyList<MoqPath> allowed)
    {
        var listener = new AnnouncedConsumer(this, root, prefix, allowed);
        lock (_lock)
        {
            var initial = new List<Announcement>();
            foreach (var (path, list) in _paths)
                if (list.Count > 0 && listener.Relative(path) is { } rel)
                    initial.Add(new Announcement(rel, list[^1].Broadcast, list[^1].Hops));
            initial.Sort((a, b) => a.Path.CompareTo(b.Path));
            listener.SetInitial(initial);
            _listeners.Add(listener);
        }
        return listener;
    }

    internal void StopListening(AnnouncedConsumer listener)
    {
        lock (_lock)
            _listeners.Remove(listener);
    }
}

/// <summary>One publisher's claim on a path; dispose to unpublish.</summary>
public sealed class Publication : IDisposable
{
    private readonly Origin _origin;
    private int _disposed;

    internal Publication(Origin origin, MoqPath path, BroadcastConsumer broadcast, IReadOnlyList<ulong> hops)
    {
        _origin = origin;
        Path = path;
        Broadcast = broadcast;
        Hops = hops;
    }

    /// <summary>The absolute path.</summary>
    public MoqPath Path { get; }

    /// <summary>The published broadcast.</summary>
    public BroadcastConsumer Broadcast { get; }

    /// <summary>The hop chain it arrived with.</summary>
    public IReadOnlyList<ulong> Hops { get; }

    /// <summary>Unpublishes. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _origin.Unpublish(this);
    }
}
