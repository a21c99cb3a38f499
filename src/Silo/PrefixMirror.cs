using Microsoft.Extensions.Logging;

namespace MoqCluster.Silo;

/// <summary>
/// A local copy of every key under a prefix, kept current by a range read followed by a watch from
/// the read's revision + 1. Whenever the watch cannot resume (history compacted, store lost its
/// data, store unreachable for a while, or <see cref="Resync"/>), it reads the prefix again and
/// reports only the differences from what it held, so consumers see a consistent stream of
/// changes across any outage. Changes are reported from one loop, in order.
/// </summary>
internal sealed class PrefixMirror
{
    private static readonly TimeSpan MinRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(2);

    private readonly IClusterStore _store;
    private readonly string _prefix;
    private readonly Action<string, byte[]?> _changed;
    private readonly ILogger _log;
    private readonly Dictionary<string, byte[]> _state = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _passGate = new();
    private CancellationTokenSource? _pass;
    private Task _loop = Task.CompletedTask;

    /// <param name="store">The store.</param>
    /// <param name="prefix">The key prefix to mirror.</param>
    /// <param name="changed">Called with (key, value) for a new or changed key and (key, null) for a removed one.</param>
    /// <param name="log">Diagnostics.</param>
    public PrefixMirror(IClusterStore store, string prefix, Action<string, byte[]?> changed, ILogger log)
    {
        _store = store;
        _prefix = prefix;
        _changed = changed;
        _log = log;
    }

    /// <summary>Completes after the first successful read of the prefix.</summary>
    public Task FirstSync => _firstSync.Task;

    /// <summary>How many full reads of the prefix have been done.</summary>
    public int Syncs { get; private set; }

    /// <summary>The revision the mirror has reached.</summary>
    public long Revision { get; private set; }

    public void Start(CancellationToken stop) => _loop = Task.Run(() => RunAsync(stop));

    public Task Completion => _loop;

    /// <summary>Drop the current watch and read the prefix again (e.g. after the store came back).</summary>
    public void Resync()
    {
        lock (_passGate)
        {
            _pass?.Cancel();
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var retry = MinRetry;
        while (!stop.IsCancellationRequested)
        {
            var pass = CancellationTokenSource.CreateLinkedTokenSource(stop);
            lock (_passGate)
            {
                _pass = pass;
            }

            try
            {
                var range = await _store.GetPrefixAsync(_prefix, pass.Token).ConfigureAwait(false);
                ApplySnapshot(range);
                retry = MinRetry;
                await foreach (var e in _store.WatchAsync(_prefix, range.Revision + 1, pass.Token).ConfigureAwait(false))
                {
                    Apply(e);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException)
            {
                _log.LogDebug("mirror {Prefix}: resync requested", _prefix);
            }
            catch (WatchHistoryLostException e)
            {
                _log.LogWarning("mirror {Prefix}: {Reason}; reading it again", _prefix, e.Message);
            }
            catch (Exception e) when (LeaseSession.IsStoreFailure(e))
            {
                _log.LogDebug("mirror {Prefix}: {Error}; retrying in {Delay}", _prefix, e.Message, retry);
                await Task.Delay(retry, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, MaxRetry.Ticks));
            }
            catch (Exception e)
            {
                _log.LogError(e, "mirror {Prefix}: unexpected error", _prefix);
                await Task.Delay(MaxRetry, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
            finally
            {
                lock (_passGate)
                {
                    _pass = null;
                    pass.Dispose();
                }
            }
        }
    }

    private void ApplySnapshot(RangeResult range)
    {
        var fresh = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in range.Entries)
        {
            fresh[entry.Key] = entry.Value;
        }

        foreach (var key in _state.Keys.Where(k => !fresh.ContainsKey(k)).ToList())
        {
            _state.Remove(key);
            _changed(key, null);
        }

        foreach (var (key, value) in fresh)
        {
            Set(key, value);
        }

        Revision = range.Revision;
        Syncs++;
        _firstSync.TrySetResult();
    }

    private void Apply(WatchEvent e)
    {
        Revision = e.ModRevision;
        if (e.Kind == WatchEventKind.Put)
        {
            Set(e.Key, e.Value);
        }
        else if (_state.Remove(e.Key))
        {
            _changed(e.Key, null);
        }
    }

    private void Set(string key, byte[] value)
    {
        // Rewrites of an unchanged value (a node re-registering after a reconnect) are not news.
        if (_state.TryGetValue(key, out var old) && old.AsSpan().SequenceEqual(value))
        {
            return;
        }

        _state[key] = value;
        _changed(key, value);
    }
}
