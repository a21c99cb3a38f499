using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Silo;

namespace MoqCluster.Grains;

/// <summary>
/// The activation table of broadcast grains on this edge. It follows two inputs — local publishers (the
/// <em>local</em> origin, fed by client sessions) and the cluster directory — registers local publishers in
/// the directory, and gives every path's grain its route: the newest epoch wins; a redundant publisher elsewhere
/// is a standby. Grains publish what local subscribers see into the <em>serving</em> origin.
/// </summary>
public sealed class GrainCatalog : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Origin _local;
    private readonly Origin _serving;
    private readonly ClusterSilo _silo;
    private readonly ClusterLinks _links;
    private readonly GrainOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Dictionary<MoqPath, BroadcastGrain> _grains = [];
    private readonly Dictionary<MoqPath, Announcement> _localPublishers = [];
    private readonly CancellationTokenSource _cts = new();
    private readonly List<Task> _loops = [];

    /// <summary>Creates the catalog; call <see cref="Start"/> once the silo is started.</summary>
    public GrainCatalog(Origin local, Origin serving, ClusterSilo silo, ClusterLinks links, GrainOptions options, ILoggerFactory loggers)
    {
        _local = local;
        _serving = serving;
        _silo = silo;
        _links = links;
        _options = options;
        _loggers = loggers;
        _logger = loggers.CreateLogger<GrainCatalog>();
    }

    /// <summary>Active grains, by path.</summary>
    public IReadOnlyDictionary<MoqPath, BroadcastGrain> Grains
    {
        get
        {
            lock (_lock)
                return new Dictionary<MoqPath, BroadcastGrain>(_grains);
        }
    }

    /// <summary>Starts following local publishers, the directory and membership.</summary>
    public void Start()
    {
        _silo.Resynchronized += RerouteAll;
        _loops.Add(FollowLocalAsync(_cts.Token));
        _loops.Add(FollowDirectoryAsync(_cts.Token));
        _loops.Add(FollowMembershipAsync(_cts.Token));
    }

    private async Task FollowLocalAsync(CancellationToken ct)
    {
        using var feed = _local.Consumer().Announced();
        foreach (var a in feed.Initial)
            OnLocal(a);
        while (await feed.NextAsync(ct).ConfigureAwait(false) is { } change)
            OnLocal(change);
    }

    private void OnLocal(Announcement change)
    {
        lock (_lock)
        {
            if (change.IsActive)
                _localPublishers[change.Path] = change;
            else
                _localPublishers.Remove(change.Path);
        }
        Reroute(change.Path);
        _ = change.IsActive ? RegisterAsync(change.Path) : UnregisterAsync(change.Path);
    }

    private async Task RegisterAsync(MoqPath path)
    {
        try
        {
            await _silo.Directory.RegisterAsync(path.Value, _cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("directory registration of {Path} failed: {Reason}", path, ex.Message);
        }
        Reroute(path);
    }

    private async Task UnregisterAsync(MoqPath path)
    {
        bool republished;
        lock (_lock)
            republished = _localPublishers.ContainsKey(path);
        if (republished)
            return;
        try
        {
            await _silo.Directory.UnregisterAsync(path.Value, _cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("directory removal of {Path} failed: {Reason}", path, ex.Message);
        }
        Reroute(path);
    }

    private async Task FollowDirectoryAsync(CancellationToken ct)
    {
        await foreach (var change in _silo.Directory.WatchAsync(ct).ConfigureAwait(false))
            Reroute(MoqPath.Parse(change.Entry.Path));
    }

    private async Task FollowMembershipAsync(CancellationToken ct)
    {
        await foreach (var change in _silo.Membership.WatchAsync(ct).ConfigureAwait(false))
        {
            if (change.Kind == MemberChangeKind.Left)
                _links.Forget(change.Node.NodeId);
            RerouteAll();
        }
    }

    private void RerouteAll()
    {
        List<MoqPath> paths;
        lock (_lock)
            paths = [.. _grains.Keys, .. _localPublishers.Keys];
        foreach (var entry in _silo.Directory.Snapshot())
            paths.Add(MoqPath.Parse(entry.Path));
        foreach (var path in paths.Distinct())
            Reroute(path);
    }

    /// <summary>Recomputes the route of one path and hands it to its grain, activating or deactivating it.</summary>
    private void Reroute(MoqPath path)
    {
        lock (_lock)
        {
            var route = Choose(path);
            if (!_grains.TryGetValue(path, out var grain))
            {
                if (route is null)
                    return;
                grain = new BroadcastGrain(path, _serving, _options, _loggers.CreateLogger<BroadcastGrain>());
                _grains[path] = grain;
            }
            grain.SetRoute(route);
            if (grain.IsIdle)
                _grains.Remove(path);
        }
    }

    /// <summary>
    /// The route for a path: the newest directory entry whose source is usable — our own entry when the local
    /// publisher is still here, another edge's when that edge is a live member; a local publisher the directory
    /// has not recorded yet (etcd unreachable) still serves local subscribers.
    /// </summary>
    private GrainRoute? Choose(MoqPath path)
    {
        _localPublishers.TryGetValue(path, out var local);
        foreach (var entry in _silo.Directory.Lookup(path.Value))
        {
            if (entry.NodeId == _silo.Self.NodeId)
            {
                if (local is not null)
                    return LocalRoute(local, entry.Epoch);
                continue;
            }
            if (_silo.Membership.Find(entry.NodeId) is { } node)
                return RemoteRoute(path, entry, node);
        }
        return local is not null ? LocalRoute(local, 0) : null;
    }

    private GrainRoute LocalRoute(Announcement local, long epoch)
    {
        var broadcast = local.Broadcast!;
        return new GrainRoute(_silo.Self.NodeId, epoch, local.Hops, IsLocal: true, _ => ValueTask.FromResult(broadcast), broadcast.Producer);
    }

    private GrainRoute RemoteRoute(MoqPath path, BroadcastEntry entry, NodeInfo node)
    {
        var link = _links.For(node);
        return new GrainRoute(entry.NodeId, entry.Epoch, [entry.OriginId], IsLocal: false, ct => link.ConsumeAsync(path, ct), SessionLost: () => link.SessionClosed);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _silo.Resynchronized -= RerouteAll;
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        List<BroadcastGrain> grains;
        lock (_lock)
        {
            grains = [.. _grains.Values];
            _grains.Clear();
        }
        foreach (var grain in grains)
            grain.Deactivate();
    }
}
