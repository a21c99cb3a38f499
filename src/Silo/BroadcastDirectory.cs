using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace MoqCluster.Silo;

/// <summary>
/// The cluster-wide broadcast directory: path → the nodes publishing it, each with an epoch. This
/// node's own entries are held locally (and kept in the store under its lease, restored after any
/// outage); every other node's entries come from a mirror of the store. When several nodes list
/// one path, <see cref="Current"/> is the newest claim (<see cref="BroadcastEntry.NewestFirst"/>),
/// which lets a stale publisher's edge notice it has been superseded.
/// </summary>
public sealed class BroadcastDirectory
{
    private readonly object _gate = new();
    private readonly NodeInfo _self;
    private readonly ClusterKeys _keys;
    private readonly IClusterStore _store;
    private readonly LeaseSession _lease;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _registrations = new(1, 1);
    private readonly Dictionary<string, Dictionary<string, BroadcastEntry>> _paths = new(StringComparer.Ordinal);
    private readonly ChangeFeed<DirectoryChange> _feed = new();
    private long _highestEpoch;

    internal BroadcastDirectory(NodeInfo self, ClusterKeys keys, IClusterStore store, LeaseSession lease, ILogger log)
    {
        _self = self;
        _keys = keys;
        _store = store;
        _lease = lease;
        _log = log;
    }

    /// <summary>The highest epoch this node has seen or assigned.</summary>
    public long HighestEpoch => Interlocked.Read(ref _highestEpoch);

    /// <summary>
    /// Record that this node publishes <paramref name="path"/>, with a new epoch above every epoch in
    /// the cluster. Re-registering a path this node already publishes supersedes the old entry. While
    /// the store is unreachable the entry takes effect locally (epoch = highest seen + 1) and is
    /// written once the store answers again.
    /// </summary>
    /// <param name="path">The normalised broadcast path.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>This node's entry for the path.</returns>
    public async Task<BroadcastEntry> RegisterAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        await _registrations.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long epoch;
            try
            {
                epoch = await EpochCounter.NextAsync(_store, _keys.EpochKey, HighestEpoch, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (LeaseSession.IsStoreFailure(e))
            {
                // Offline: a local epoch still orders this claim above everything this node knows of;
                // a tie with another offline node is broken by node id.
                epoch = HighestEpoch + 1;
                _log.LogWarning("epoch for {Path} assigned locally ({Epoch}): {Error}", path, epoch, e.Message);
            }

            var entry = new BroadcastEntry(path, _self.NodeId, _self.OriginId, _self.AdvertiseUrl, epoch);
            lock (_gate)
            {
                SetLocked(entry);
            }

            await _lease.SetAsync(_keys.Broadcast(path, _self.NodeId), JsonSerializer.SerializeToUtf8Bytes(entry, SiloJson.Default.BroadcastEntry), cancellationToken).ConfigureAwait(false);
            return entry;
        }
        finally
        {
            _registrations.Release();
        }
    }

    /// <summary>Record that this node no longer publishes <paramref name="path"/>.</summary>
    /// <param name="path">The normalised broadcast path.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>False when this node had no entry for the path.</returns>
    public async Task<bool> UnregisterAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        await _registrations.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (!RemoveLocked(path, _self.NodeId))
                {
                    return false;
                }
            }

            await _lease.RemoveAsync(_keys.Broadcast(path, _self.NodeId), cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _registrations.Release();
        }
    }

    /// <summary>Every node's entry for <paramref name="path"/>, newest first.</summary>
    /// <param name="path">The broadcast path.</param>
    /// <returns>The entries; empty when nobody publishes the path.</returns>
    public IReadOnlyList<BroadcastEntry> Lookup(string path)
    {
        lock (_gate)
        {
            if (!_paths.TryGetValue(path, out var byNode))
            {
                return [];
            }

            var list = byNode.Values.ToList();
            list.Sort(BroadcastEntry.NewestFirst);
            return list;
        }
    }

    /// <summary>The winning (newest) entry for <paramref name="path"/>.</summary>
    /// <param name="path">The broadcast path.</param>
    /// <returns>The entry, or null when nobody publishes the path.</returns>
    public BroadcastEntry? Current(string path)
    {
        var entries = Lookup(path);
        return entries.Count > 0 ? entries[0] : null;
    }

    /// <summary>A snapshot of every entry, ordered by path, then newest first.</summary>
    /// <returns>The entries.</returns>
    public IReadOnlyList<BroadcastEntry> Snapshot()
    {
        lock (_gate)
        {
            return AllLocked();
        }
    }

    /// <summary>
    /// The directory as a feed: when enumeration starts, an <see cref="DirectoryChangeKind.Added"/>
    /// for every current entry; then every change, in order, until cancelled or the silo stops.
    /// After an outage the feed carries exactly the differences between what it had reported and
    /// what the store holds.
    /// </summary>
    /// <param name="cancellationToken">Ends the feed.</param>
    /// <returns>The changes.</returns>
    public async IAsyncEnumerable<DirectoryChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Channel<DirectoryChange> channel;
        lock (_gate)
        {
            channel = _feed.Add(AllLocked().Select(e => new DirectoryChange(DirectoryChangeKind.Added, e)).ToList());
        }

        try
        {
            await foreach (var change in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return change;
            }
        }
        finally
        {
            lock (_gate)
            {
                _feed.Remove(channel);
            }
        }
    }

    internal void OnMirrored(string key, byte[]? value)
    {
        if (!_keys.TryParseBroadcast(key, out var path, out var nodeId))
        {
            _log.LogWarning("ignoring malformed broadcast key {Key}", key);
            return;
        }

        if (nodeId == _self.NodeId)
        {
            // Own entries are known locally and restored by the lease session; the store's copy
            // (or a leftover of a previous run of this node, expiring with its old lease) is ignored.
            if (value is not null && TryParse(key, value, out var own))
            {
                RaiseHighestEpoch(own.Epoch);
            }

            return;
        }

        lock (_gate)
        {
            if (value is null)
            {
                RemoveLocked(path, nodeId);
                return;
            }

            if (!TryParse(key, value, out var entry) || entry.Path != path || entry.NodeId != nodeId)
            {
                _log.LogWarning("ignoring broadcast key {Key}: malformed or naming another path/node", key);
                return;
            }

            SetLocked(entry);
        }
    }

    internal void Complete()
    {
        lock (_gate)
        {
            _feed.Complete();
        }
    }

    private bool TryParse(string key, byte[] value, out BroadcastEntry entry)
    {
        entry = null!;
        try
        {
            if (JsonSerializer.Deserialize(value, SiloJson.Default.BroadcastEntry) is { } parsed)
            {
                entry = parsed;
                return true;
            }
        }
        catch (JsonException e)
        {
            _log.LogWarning("malformed broadcast value at {Key}: {Error}", key, e.Message);
        }

        return false;
    }

    private void SetLocked(BroadcastEntry entry)
    {
        RaiseHighestEpoch(entry.Epoch);
        if (!_paths.TryGetValue(entry.Path, out var byNode))
        {
            _paths[entry.Path] = byNode = new Dictionary<string, BroadcastEntry>(StringComparer.Ordinal);
        }

        var kind = byNode.TryGetValue(entry.NodeId, out var old) ? DirectoryChangeKind.Updated : DirectoryChangeKind.Added;
        if (old == entry)
        {
            return;
        }

        byNode[entry.NodeId] = entry;
        _feed.Publish(new DirectoryChange(kind, entry));
    }

    private bool RemoveLocked(string path, string nodeId)
    {
        if (!_paths.TryGetValue(path, out var byNode) || !byNode.Remove(nodeId, out var old))
        {
            return false;
        }

        if (byNode.Count == 0)
        {
            _paths.Remove(path);
        }

        _feed.Publish(new DirectoryChange(DirectoryChangeKind.Removed, old));
        return true;
    }

    private List<BroadcastEntry> AllLocked()
    {
        var all = new List<BroadcastEntry>();
        foreach (var path in _paths.Keys.Order(StringComparer.Ordinal))
        {
            var entries = _paths[path].Values.ToList();
            entries.Sort(BroadcastEntry.NewestFirst);
            all.AddRange(entries);
        }

        return all;
    }

    private void RaiseHighestEpoch(long epoch)
    {
        var seen = Interlocked.Read(ref _highestEpoch);
        while (epoch > seen)
        {
            var previous = Interlocked.CompareExchange(ref _highestEpoch, epoch, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
