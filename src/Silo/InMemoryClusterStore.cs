using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace MoqCluster.Silo;

/// <summary>
/// The embedded store for a single node (the default when no etcd is configured): the same
/// semantics as etcd — a global revision bumped by every write, leases that delete their keys on
/// expiry, compare-and-put, and prefix watches that replay history from a revision — held in
/// process memory. Several silos in one process may share one instance (that is how tests form a
/// cluster without etcd).
/// </summary>
public sealed class InMemoryClusterStore : IClusterStore
{
    /// <summary>Watch history kept for resuming; older revisions are compacted away.</summary>
    private const int MaxHistory = 10_000;

    private static readonly TimeSpan ExpiryTick = TimeSpan.FromMilliseconds(100);

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly SortedDictionary<string, StoreEntry> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<long, LeaseState> _leases = [];
    private readonly Queue<WatchEvent> _history = new();
    private readonly List<Watcher> _watchers = [];
    private readonly ITimer _expiryTimer;
    private long _revision = 1; // etcd starts at 1 too: a fresh store has revision 1 and no keys.
    private long _compactRevision;
    private long _nextLeaseId = 0x1000;
    private bool _disposed;

    /// <summary>Create an empty store.</summary>
    /// <param name="timeProvider">Clock for lease expiry; the system clock when null.</param>
    public InMemoryClusterStore(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _expiryTimer = _time.CreateTimer(_ => ExpireLeases(), null, ExpiryTick, ExpiryTick);
    }

    /// <summary>The current store revision.</summary>
    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    /// <summary>The smallest TTL granted, like etcd's default minimum.</summary>
    public TimeSpan MinimumTtl { get; init; } = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var granted = ttl < MinimumTtl ? MinimumTtl : TimeSpan.FromSeconds(Math.Ceiling(ttl.TotalSeconds));
        lock (_gate)
        {
            ThrowIfDisposed();
            var id = ++_nextLeaseId;
            _leases[id] = new LeaseState(granted, _time.GetUtcNow() + granted);
            return Task.FromResult(new LeaseGrant(id, granted));
        }
    }

    /// <inheritdoc />
    public Task<bool> KeepAliveAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_leases.TryGetValue(leaseId, out var lease))
            {
                return Task.FromResult(false);
            }

            lease.ExpiresAt = _time.GetUtcNow() + lease.Ttl;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            DropLeaseLocked(leaseId);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            CheckLeaseLocked(leaseId);
            _revision++;
            PutLocked(key, value.ToArray(), leaseId);
            return Task.FromResult(_revision);
        }
    }

    /// <inheritdoc />
    public Task<TxnResult> CompareAndPutAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, long leaseId = 0, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _keys.TryGetValue(key, out var current);
            if ((current?.ModRevision ?? 0) != expectedModRevision)
            {
                return Task.FromResult(new TxnResult(false, _revision, current));
            }

            CheckLeaseLocked(leaseId);
            _revision++;
            PutLocked(key, value.ToArray(), leaseId);
            return Task.FromResult(new TxnResult(true, _revision, null));
        }
    }

    /// <inheritdoc />
    public Task<StoreEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return Task.FromResult(_keys.GetValueOrDefault(key));
        }
    }

    /// <inheritdoc />
    public Task<RangeResult> GetPrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var entries = _keys.Values.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            return Task.FromResult(new RangeResult(entries, _revision));
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_keys.ContainsKey(key))
            {
                return Task.FromResult(false);
            }

            _revision++;
            DeleteLocked(key);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var watcher = new Watcher(prefix);
        lock (_gate)
        {
            ThrowIfDisposed();
            if (fromRevision <= _compactRevision)
            {
                throw new WatchHistoryLostException($"revision {fromRevision} is compacted (compact revision {_compactRevision})", _compactRevision);
            }

            // Replay and registration happen under one lock, so no change falls between them.
            foreach (var e in _history)
            {
                if (e.ModRevision >= fromRevision && e.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    watcher.Channel.Writer.TryWrite(e);
                }
            }

            _watchers.Add(watcher);
        }

        try
        {
            await foreach (var e in watcher.Channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(watcher);
            }
        }

        // The reader completed without cancellation: the store was disposed.
        throw new ClusterStoreUnavailableException("the in-memory store was disposed");
    }

    /// <summary>Forget the history up to and including <paramref name="revision"/>, as etcd compaction does.</summary>
    /// <param name="revision">The compaction revision.</param>
    public void Compact(long revision)
    {
        lock (_gate)
        {
            while (_history.Count > 0 && _history.Peek().ModRevision <= revision)
            {
                _history.Dequeue();
            }

            _compactRevision = Math.Max(_compactRevision, Math.Min(revision, _revision));
        }
    }

    /// <summary>Delete the keys of every lease past its expiry now (the timer does this every 100 ms).</summary>
    public void ExpireLeases()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var now = _time.GetUtcNow();
            foreach (var id in _leases.Where(l => l.Value.ExpiresAt <= now).Select(l => l.Key).ToList())
            {
                DropLeaseLocked(id);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            foreach (var w in _watchers)
            {
                w.Channel.Writer.TryComplete();
            }
        }

        _expiryTimer.Dispose();
        return ValueTask.CompletedTask;
    }

    private void CheckLeaseLocked(long leaseId)
    {
        if (leaseId != 0 && !_leases.ContainsKey(leaseId))
        {
            throw new LeaseNotFoundException(leaseId);
        }
    }

    private void DropLeaseLocked(long leaseId)
    {
        if (!_leases.Remove(leaseId, out var lease) || lease.Keys.Count == 0)
        {
            return;
        }

        // One revision for all the lease's keys, as etcd does on revoke/expiry.
        _revision++;
        foreach (var key in lease.Keys.ToList())
        {
            DeleteLocked(key);
        }
    }

    private void PutLocked(string key, byte[] value, long leaseId)
    {
        _keys.TryGetValue(key, out var old);
        if (old is not null && old.LeaseId != 0 && old.LeaseId != leaseId && _leases.TryGetValue(old.LeaseId, out var oldLease))
        {
            oldLease.Keys.Remove(key);
        }

        if (leaseId != 0)
        {
            _leases[leaseId].Keys.Add(key);
        }

        _keys[key] = new StoreEntry(key, value, old?.CreateRevision ?? _revision, _revision, (old?.Version ?? 0) + 1, leaseId);
        Publish(new WatchEvent(WatchEventKind.Put, key, value, _revision));
    }

    private void DeleteLocked(string key)
    {
        if (!_keys.Remove(key, out var old))
        {
            return;
        }

        if (old.LeaseId != 0 && _leases.TryGetValue(old.LeaseId, out var lease))
        {
            lease.Keys.Remove(key);
        }

        Publish(new WatchEvent(WatchEventKind.Delete, key, [], _revision));
    }

    private void Publish(WatchEvent e)
    {
        _history.Enqueue(e);
        if (_history.Count > MaxHistory)
        {
            _compactRevision = _history.Dequeue().ModRevision;
        }

        foreach (var w in _watchers)
        {
            if (e.Key.StartsWith(w.Prefix, StringComparison.Ordinal))
            {
                w.Channel.Writer.TryWrite(e);
            }
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ClusterStoreUnavailableException("the in-memory store was disposed");
        }
    }

    private sealed class LeaseState(TimeSpan ttl, DateTimeOffset expiresAt)
    {
        public TimeSpan Ttl { get; } = ttl;

        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Watcher(string prefix)
    {
        public string Prefix { get; } = prefix;

        // Unbounded: a watcher is the silo's own mirror loop, which drains promptly; the store must
        // never block a writer on a slow reader.
        public Channel<WatchEvent> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<WatchEvent>(new UnboundedChannelOptions { SingleReader = true });
    }
}
