using Microsoft.Extensions.Logging;

namespace MoqCluster.Silo;

/// <summary>
/// This node's lease and the keys it owns under it (its node key, its directory entries). Keeps
/// the lease alive every TTL/3; when the store is unreachable it keeps the owned set locally and,
/// once the store answers again, renews (or, if the lease expired meanwhile, re-grants) and writes
/// every owned key back. The owned set is the truth; the store is brought back in line with it.
/// </summary>
internal sealed class LeaseSession
{
    private static readonly TimeSpan MinRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(1);

    private readonly IClusterStore _store;
    private readonly TimeSpan _ttl;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Dictionary<string, byte[]> _owned = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingDeletes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstRegistration = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private long _leaseId;
    private volatile bool _dirty = true;
    private volatile bool _connected;
    private int _registrations;

    public LeaseSession(IClusterStore store, TimeSpan ttl, ILogger log)
    {
        _store = store;
        _ttl = ttl;
        _log = log;
        GrantedTtl = ttl;
    }

    /// <summary>Raised with true when the store answers again (and at first contact), false when it stops answering.</summary>
    public event Action<bool>? ConnectionChanged;

    /// <summary>Raised after every owned key was (re)written; the argument is true for re-registrations after the first.</summary>
    public event Action<bool>? Registered;

    public long LeaseId => Interlocked.Read(ref _leaseId);

    public bool IsConnected => _connected;

    public TimeSpan GrantedTtl { get; private set; }

    public Task FirstRegistration => _firstRegistration.Task;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Own <paramref name="key"/> with <paramref name="value"/>: written now if possible, rewritten after any loss.</summary>
    public async Task SetAsync(string key, byte[] value, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _owned[key] = value;
            _pendingDeletes.Remove(key);
            var lease = LeaseId;
            if (!_connected || lease == 0)
            {
                _dirty = true;
                return;
            }

            try
            {
                await _store.PutAsync(key, value, lease, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                // The loop notices, re-grants if needed and writes the owned set back.
                _log.LogDebug("put {Key} deferred: {Error}", key, e.Message);
                _dirty = true;
                Poke();
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Stop owning <paramref name="key"/> and delete it (now, or once the store answers again).</summary>
    public async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _owned.Remove(key);
            if (!_connected)
            {
                _pendingDeletes.Add(key);
                return;
            }

            try
            {
                await _store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                _pendingDeletes.Add(key);
                _dirty = true;
                Poke();
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Stop renewing. With <paramref name="revoke"/>, revoke the lease so every owned key vanishes at once.</summary>
    public async Task StopAsync(bool revoke, CancellationToken cancellationToken)
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        await _loop.ConfigureAwait(false);
        var lease = Interlocked.Exchange(ref _leaseId, 0);
        if (revoke && lease != 0)
        {
            try
            {
                await _store.RevokeLeaseAsync(lease, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                _log.LogWarning("lease {Lease} not revoked ({Error}); its keys expire with its TTL", lease, e.Message);
            }
        }

        _connected = false;
    }

    internal static bool IsStoreFailure(Exception e) =>
        e is ClusterStoreUnavailableException or LeaseNotFoundException or EtcdRequestException or HttpRequestException or IOException
        || e is OperationCanceledException { CancellationToken.IsCancellationRequested: false };

    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var retry = MinRetry;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var lease = LeaseId;
                if (lease == 0)
                {
                    var grant = await _store.GrantLeaseAsync(_ttl, stop).ConfigureAwait(false);
                    GrantedTtl = grant.Ttl;
                    Interlocked.Exchange(ref _leaseId, grant.Id);
                    _dirty = true;
                    _log.LogInformation("granted lease {Lease} (TTL {Ttl})", grant.Id, grant.Ttl);
                }
                else if (!await _store.KeepAliveAsync(lease, stop).ConfigureAwait(false))
                {
                    _log.LogWarning("lease {Lease} is gone (expired while unreachable?); granting a new one", lease);
                    Interlocked.CompareExchange(ref _leaseId, 0, lease);
                    continue;
                }

                var restored = false;
                if (_dirty || !_connected)
                {
                    await RestoreAsync(stop).ConfigureAwait(false);
                    restored = true;
                }

                retry = MinRetry;
                if (!_connected)
                {
                    _connected = true;
                    ConnectionChanged?.Invoke(true);
                }

                if (restored)
                {
                    Registered?.Invoke(Interlocked.Increment(ref _registrations) > 1);
                    _firstRegistration.TrySetResult();
                }

                await WaitAsync(GrantedTtl / 3, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (LeaseNotFoundException e)
            {
                Interlocked.CompareExchange(ref _leaseId, 0, e.LeaseId);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                if (_connected)
                {
                    _connected = false;
                    _log.LogWarning("cluster store unreachable: {Error}; working locally until it returns", e.Message);
                    ConnectionChanged?.Invoke(false);
                }

                await WaitAsync(retry, stop).ConfigureAwait(false);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, MaxRetry.Ticks));
            }
            catch (Exception e)
            {
                // A bug in an event handler must not end the lease loop: that would orphan the node.
                _log.LogError(e, "lease loop error");
                await WaitAsync(MaxRetry, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task RestoreAsync(CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var lease = LeaseId;
            foreach (var key in _pendingDeletes.ToList())
            {
                await _store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                _pendingDeletes.Remove(key);
            }

            foreach (var (key, value) in _owned)
            {
                await _store.PutAsync(key, value, lease, cancellationToken).ConfigureAwait(false);
            }

            _dirty = false;
        }
        finally
        {
            _writes.Release();
        }
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await _wake.WaitAsync(delay, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the loop condition ends the loop.
        }
    }

    private void Poke()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already poked.
        }
    }
}
