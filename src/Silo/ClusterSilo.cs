using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MoqCluster.Silo;

/// <summary>
/// The cluster runtime an edge starts: from <see cref="ClusterOptions"/> it picks the store (etcd
/// when endpoints are configured, the embedded in-memory store otherwise), holds this node's
/// lease, registers the node (<see cref="Membership"/>) and its broadcasts
/// (<see cref="Directory"/>), and mirrors everyone else's. It survives store outages: local
/// operation goes on, and when the store returns the lease, node key and every local directory
/// entry are restored and the mirrors re-read, emitting only the differences.
/// </summary>
public sealed class ClusterSilo : IAsyncDisposable
{
    private readonly bool _ownsStore;
    private readonly ILogger _log;
    private readonly LeaseSession _lease;
    private readonly PrefixMirror _nodes;
    private readonly PrefixMirror _broadcasts;
    private readonly CancellationTokenSource _stop = new();
    private int _state; // 0 new, 1 started, 2 stopped
    private bool _everConnected;

    /// <summary>Create a silo (not started yet).</summary>
    /// <param name="options">Cluster options (validated here).</param>
    /// <param name="store">The store to use; null = chosen from <paramref name="options"/> and owned (disposed) by the silo.</param>
    /// <param name="loggerFactory">Diagnostics.</param>
    public ClusterSilo(ClusterOptions options, IClusterStore? store = null, ILoggerFactory? loggerFactory = null)
    {
        options.Validate();
        Options = options;
        var loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _log = loggers.CreateLogger("MoqCluster.Silo");
        _ownsStore = store is null;
        Store = store ?? (options.IsClustered
            ? new EtcdClusterStore(options.EtcdEndpoints, options.EffectiveEtcdRequestTimeout, loggers.CreateLogger("MoqCluster.Silo.Etcd"))
            : new InMemoryClusterStore());
        Keys = new ClusterKeys(options.KeyPrefix);
        Self = new NodeInfo(options.NodeId, options.OriginId, options.AdvertiseUrl, options.Region);
        _lease = new LeaseSession(Store, options.LeaseTtl, _log);
        Membership = new Membership(Self, Keys, _log);
        Directory = new BroadcastDirectory(Self, Keys, Store, _lease, _log);
        _nodes = new PrefixMirror(Store, Keys.NodesPrefix, Membership.OnMirrored, _log);
        _broadcasts = new PrefixMirror(Store, Keys.BroadcastsPrefix, Directory.OnMirrored, _log);
        _lease.ConnectionChanged += OnConnectionChanged;
        _lease.Registered += again =>
        {
            if (!again)
            {
                return;
            }

            try
            {
                Resynchronized?.Invoke();
            }
            catch (Exception e)
            {
                _log.LogError(e, "Resynchronized handler failed");
            }
        };
    }

    /// <summary>The options the silo runs with.</summary>
    public ClusterOptions Options { get; }

    /// <summary>This node as registered.</summary>
    public NodeInfo Self { get; }

    /// <summary>The key layout.</summary>
    public ClusterKeys Keys { get; }

    /// <summary>The store underneath.</summary>
    public IClusterStore Store { get; }

    /// <summary>The live members.</summary>
    public Membership Membership { get; }

    /// <summary>The broadcast directory.</summary>
    public BroadcastDirectory Directory { get; }

    /// <summary>True while the store answers and this node's lease is held.</summary>
    public bool IsConnected => _lease.IsConnected;

    /// <summary>The current lease id (0 while none is held).</summary>
    public long LeaseId => _lease.LeaseId;

    /// <summary>Raised (on a background thread) with true when the store answers again and false when it stops answering.</summary>
    public event Action<bool>? ConnectionChanged;

    /// <summary>Raised (on a background thread) each time this node re-registered its node key and directory entries after an outage or a lost lease.</summary>
    public event Action? Resynchronized;

    /// <summary>
    /// Start: register this node, begin keeping the lease alive and mirroring the cluster. Waits
    /// until registered and mirrored, or at most <see cref="ClusterOptions.StartupWait"/>; past that
    /// the silo carries on locally and connects in the background (see <see cref="IsConnected"/>).
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (not the silo).</param>
    /// <returns>A task that completes when the silo is running.</returns>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("the silo was already started");
        }

        await _lease.SetAsync(Keys.Node(Self.NodeId), Membership.SelfValue, cancellationToken).ConfigureAwait(false);
        _lease.Start();
        _nodes.Start(_stop.Token);
        _broadcasts.Start(_stop.Token);
        var ready = Task.WhenAll(_lease.FirstRegistration, _nodes.FirstSync, _broadcasts.FirstSync);
        try
        {
            await ready.WaitAsync(Options.StartupWait, cancellationToken).ConfigureAwait(false);
            _log.LogInformation("node {Node} joined the cluster (lease {Lease})", Self.NodeId, LeaseId);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("node {Node}: cluster store not reachable within {Wait}; running locally, connecting in the background", Self.NodeId, Options.StartupWait);
        }
    }

    /// <summary>Leave the cluster: revoke the lease (this node's keys vanish at once) and stop the feeds.</summary>
    /// <param name="cancellationToken">Bounds the revoke call.</param>
    /// <returns>A task that completes when stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) => ShutdownAsync(revoke: true, cancellationToken);

    /// <summary>Stop and release the store if the silo created it.</summary>
    /// <returns>A task that completes when disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        using (var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await ShutdownAsync(revoke: true, bound.Token).ConfigureAwait(false);
        }

        if (_ownsStore)
        {
            await Store.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>Stop without revoking, as a killed process would: the lease just expires (tests).</summary>
    internal Task CrashAsync() => ShutdownAsync(revoke: false, CancellationToken.None);

    private async Task ShutdownAsync(bool revoke, CancellationToken cancellationToken)
    {
        var previous = Interlocked.Exchange(ref _state, 2);
        if (previous == 2)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (previous == 1)
        {
            await Task.WhenAll(_nodes.Completion, _broadcasts.Completion).ConfigureAwait(false);
            await _lease.StopAsync(revoke, cancellationToken).ConfigureAwait(false);
        }

        Membership.Complete();
        Directory.Complete();
    }

    private void OnConnectionChanged(bool connected)
    {
        if (connected && _everConnected)
        {
            // The watches may have silently missed the outage (a hung member sends nothing);
            // re-reading costs one range per prefix and emits only real differences.
            _nodes.Resync();
            _broadcasts.Resync();
        }

        _everConnected |= connected;

        try
        {
            ConnectionChanged?.Invoke(connected);
        }
        catch (Exception e)
        {
            _log.LogError(e, "ConnectionChanged handler failed");
        }
    }
}
