using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// The writing half of a track: appends groups and keeps a cache — the latest group always, older
/// groups until they have been superseded for longer than <see cref="TrackInfo.MaxLatency"/> and while
/// they fit in <see cref="CacheBytes"/> — so a late joiner starts at the first frame of the current group. Consumers are counted so a relay can
/// cancel its upstream subscription when the last one leaves.
/// </summary>
public sealed class TrackProducer
{
    /// <summary>Upper bound on cached groups, whatever their age, so a hostile publisher cannot grow memory without bound.</summary>
    public const int MaxCachedGroups = 1024;

    /// <summary>
    /// Default byte budget for superseded groups. Without it a relay holds throughput × max latency per track
    /// (500 MB for a 100 MB/s track at 5 s), all of it old data no live consumer will read again.
    /// </summary>
    public const long DefaultCacheBytes = 4 * 1024 * 1024;

    private readonly object _lock = new();
    private readonly Watch _groupsWatch;
    private readonly Watch _optionsWatch;
    private readonly List<GroupProducer> _groups = [];
    private readonly List<TrackConsumer> _consumers = [];
    private readonly TaskCompletionSource<TrackInfo> _info = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _unused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _firstArrival;
    // A prefix of the cache whose groups are all closed, and the sum of their sizes (which no longer change): an append
    // sums only the groups after it (usually the one or two still open), not the whole cache of up to 1024 groups.
    private int _settled;
    private long _settledBytes;
    private GroupProducer? _latest;
    private bool _closed;
    private MoqErrorCode? _abortCode;

    /// <summary>Creates a track; pass null <paramref name="info"/> when it will be learned later (a relay asking upstream).</summary>
    public TrackProducer(string name, TrackInfo? info = null)
    {
        Name = name;
        _groupsWatch = new Watch(_lock);
        _optionsWatch = new Watch(_lock);
        if (info is not null)
            _info.TrySetResult(info);
        _unused.TrySetResult();
    }

    /// <summary>
    /// Superseded, complete groups beyond this many payload bytes are evicted oldest first, but never one a
    /// consumer's cursor has not passed yet (so a subscriber that lags within the latency bound loses nothing)
    /// and never the latest group. Explicit-start joiners and FETCH see only what the budget kept.
    /// </summary>
    public long CacheBytes { get; set; } = DefaultCacheBytes;

    /// <summary>The track name (not normalised; any string).</summary>
    public string Name { get; }

    /// <summary>The publisher's properties once known.</summary>
    public Task<TrackInfo> InfoAsync => _info.Task;

    /// <summary>The publisher's properties, or the defaults while unknown.</summary>
    public TrackInfo Info => _info.Task.IsCompletedSuccessfully ? _info.Task.Result : TrackInfo.Default;

    /// <summary>Sets the properties of a track created without them. Later calls are ignored.</summary>
    public void SetInfo(TrackInfo info) => _info.TrySetResult(info);

    /// <summary>True once finished or aborted.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_lock)
                return _closed;
        }
    }

    /// <summary>The highest group sequence seen, if any.</summary>
    public ulong? LatestSequence
    {
        get
        {
            lock (_lock)
                return _latest?.Sequence;
        }
    }

    /// <summary>Number of live consumers.</summary>
    public int ConsumerCount
    {
        get
        {
            lock (_lock)
                return _consumers.Count;
        }
    }

    /// <summary>Completes when the consumer count is zero (immediately if it is zero now).</summary>
    public Task WhenUnused
    {
        get
        {
            lock (_lock)
                return _unused.Task;
        }
    }

    /// <summary>The aggregate of every consumer's options (what a relay sends upstream).</summary>
    public SubscriptionOptions AggregateOptions
    {
        get
        {
            lock (_lock)
                return SubscriptionOptions.Aggregate(_consumers.Select(c => c.Options));
        }
    }

    /// <summary>A task that completes at the next change of consumers or their options.</summary>
    public Task OptionsChanged()
    {
        lock (_lock)
            return _optionsWatch.Next();
    }

    /// <summary>Starts group <paramref name="sequence"/>. Throws on a duplicate cached sequence or a closed track.</summary>
    public GroupProducer AppendGroup(ulong sequence)
    {
        GroupProducer group;
        AsyncWaiter? woken;
        lock (_lock)
            group = AppendGroupLocked(sequence, out woken);
        WaiterList.CompleteClaimed(woken);
        return group;
    }

    /// <summary>Starts the group after the latest one (0 for the first).</summary>
    public GroupProducer AppendGroup()
    {
        GroupProducer group;
        AsyncWaiter? woken;
        lock (_lock)
            group = AppendGroupLocked(_latest is null ? 0 : _latest.Sequence + 1, out woken);
        WaiterList.CompleteClaimed(woken);
        return group;
    }

    /// <summary>
    /// Adds the group and claims the parked group waiters (<paramref name="woken"/>); the caller completes them after
    /// leaving the lock, so a relay's subscription senders (<see cref="AsyncWaiter.WakeInline"/>) take the group on
    /// this thread instead of a thread-pool hop per subscriber.
    /// </summary>
    private GroupProducer AppendGroupLocked(ulong sequence, out AsyncWaiter? woken)
    {
        var group = new GroupProducer(sequence);
        if (_closed)
            throw new InvalidOperationException($"track {Name} is closed");
        // The cache is scanned only for a group at or below the newest: a newer one (nearly every append) can be
        // neither a duplicate nor behind anything, and only the newest can still be unsuperseded (every other group
        // was superseded when a newer one arrived, or on arrival if it came late).
        if (_latest is null || sequence > _latest.Sequence)
        {
            _latest?.SupersededAt ??= group.ArrivedAt;
            _latest = group;
        }
        else
        {
            foreach (var cached in _groups)
                if (cached.Sequence == sequence)
                    throw new ProtocolException(MoqErrorCode.Duplicate, $"group {sequence} already exists on track {Name}");
            // A late older group is superseded on arrival.
            group.SupersededAt = group.ArrivedAt;
        }
        _groups.Add(group);
        Evict(group.ArrivedAt);
        woken = _groupsWatch.NotifyClaimed();
        return group;
    }

    /// <summary>
    /// Forgets the cache when the source behind this track changes (a publisher that reconnected elsewhere
    /// restarts its sequence numbers). Consumers keep their cursors and simply see the new groups.
    /// </summary>
    public void Restart()
    {
        lock (_lock)
        {
            _firstArrival += _groups.Count;
            foreach (var group in _groups)
                group.Retire();
            _groups.Clear();
            _settled = 0;
            _settledBytes = 0;
            _latest = null;
        }
    }

    /// <summary>The cached group with <paramref name="sequence"/>, or null (never cached or evicted).</summary>
    public GroupProducer? FindGroup(ulong sequence)
    {
        lock (_lock)
            return _groups.Find(g => g.Sequence == sequence);
    }

    private void Evict(long now)
    {
        var maxLatency = (long)Info.MaxLatency.TotalMilliseconds;
        var removed = 0;
        while (_groups.Count - removed > 1)
        {
            var oldest = _groups[removed];
            var expired = oldest != _latest && oldest.SupersededAt is { } at && now - at > maxLatency;
            if (!expired && _groups.Count - removed <= MaxCachedGroups)
                break;
            if (oldest == _latest)
                break;
            removed++;
        }
        removed = EvictOverBudget(removed);
        if (removed > 0)
        {
            for (var i = 0; i < removed; i++)
            {
                if (i < _settled)
                    _settledBytes -= _groups[i].ByteCount;
                _groups[i].Retire();
            }
            _settled = Math.Max(0, _settled - removed);
            _groups.RemoveRange(0, removed);
            _firstArrival += removed;
        }
    }

    /// <summary>
    /// Extends the eviction prefix while the cache holds more than <see cref="CacheBytes"/>: only superseded,
    /// closed groups that every consumer cursor has already passed. Caller holds the lock.
    /// </summary>
    private int EvictOverBudget(int removed)
    {
        while (_settled < _groups.Count && _groups[_settled].IsClosed)
            _settledBytes += _groups[_settled++].ByteCount;
        // The bytes of the groups from `removed` on: the settled sum without the part of it before `removed`, plus the
        // unsettled tail.
        long bytes = 0;
        var tail = removed;
        if (removed <= _settled)
        {
            bytes = _settledBytes;
            for (var i = 0; i < removed; i++)
                bytes -= _groups[i].ByteCount;
            tail = _settled;
        }
        for (var i = tail; i < _groups.Count; i++)
            bytes += _groups[i].ByteCount;
        if (bytes <= CacheBytes)
            return removed;
        var passed = long.MaxValue;
        foreach (var consumer in _consumers)
            passed = Math.Min(passed, consumer.Cursor);
        while (bytes > CacheBytes && _groups.Count - removed > 1)
        {
            var oldest = _groups[removed];
            if (oldest == _latest || !oldest.IsClosed || _firstArrival + removed >= passed)
                break;
            bytes -= oldest.ByteCount;
            removed++;
        }
        return removed;
    }

    /// <summary>Ends the track cleanly; consumers drain the cache, then see the end. Idempotent.</summary>
    public void Finish() => Close(null);

    /// <summary>Ends the track with an error; open groups are aborted. Idempotent.</summary>
    public void Abort(MoqErrorCode code) => Close(code);

    private void Close(MoqErrorCode? code)
    {
        List<GroupProducer> open;
        lock (_lock)
        {
            if (_closed)
                return;
            _closed = true;
            _abortCode = code;
            open = _groups.Where(g => !g.IsClosed).ToList();
            _groupsWatch.Notify();
            _optionsWatch.Notify();
        }
        if (!_info.Task.IsCompleted)
            _info.TrySetException(new ProtocolException(code ?? MoqErrorCode.Closed, $"track {Name} closed before its properties were known"));
        foreach (var g in open)
        {
            if (code is { } c)
                g.Abort(c);
            else
                g.Finish();
        }
    }

    /// <summary>A new consumer; it is counted until disposed.</summary>
    public TrackConsumer Subscribe(SubscriptionOptions? options = null)
    {
        lock (_lock)
        {
            var start = _firstArrival + _groups.Count;
            options ??= SubscriptionOptions.Default;
            if (options.StartGroup is null && _latest is not null)
                start = _firstArrival + _groups.IndexOf(_latest);
            else if (options.StartGroup is not null)
                start = _firstArrival;
            var consumer = new TrackConsumer(this, options, start);
            _consumers.Add(consumer);
            if (_consumers.Count == 1)
                _unused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _optionsWatch.Notify();
            return consumer;
        }
    }

    internal void Unsubscribe(TrackConsumer consumer)
    {
        lock (_lock)
        {
            if (!_consumers.Remove(consumer))
                return;
            if (_consumers.Count == 0)
                _unused.TrySetResult();
            _optionsWatch.Notify();
        }
    }

    internal void OptionsUpdated()
    {
        lock (_lock)
        {
            _optionsWatch.Notify();
            _groupsWatch.Notify();
        }
    }

    /// <summary>
    /// Finds the next deliverable group for a consumer at <paramref name="cursor"/> (an arrival index).
    /// Returns the group, or null with either <paramref name="ended"/> set or, given a <paramref name="waiter"/>, that
    /// waiter parked until the next change (<paramref name="wait"/>; default without a waiter).
    /// </summary>
    internal GroupProducer? NextFor(TrackConsumer consumer, ref long cursor, out bool ended, AsyncWaiter? waiter, CancellationToken cancellationToken, out ValueTask wait)
    {
        lock (_lock)
        {
            if (cursor < _firstArrival)
                cursor = _firstArrival; // lagged behind eviction: skip what is gone
            var now = Environment.TickCount64;
            while (cursor < _firstArrival + _groups.Count)
            {
                var group = _groups[(int)(cursor - _firstArrival)];
                cursor++;
                if (consumer.Accepts(group, now, out var hold))
                {
                    ended = false;
                    wait = default;
                    return group;
                }
                if (hold)
                    consumer.Hold(group);
            }
            var released = consumer.TakeReleased();
            if (released is not null)
            {
                ended = false;
                wait = default;
                return released;
            }
            if (_closed)
            {
                if (_abortCode is { } code)
                    throw new ProtocolException(code, $"track {Name} aborted ({code})");
                ended = true;
                wait = default;
                return null;
            }
            ended = false;
            wait = waiter is null ? default : _groupsWatch.Park(waiter, cancellationToken);
            return null;
        }
    }
}
