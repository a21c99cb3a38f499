using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Grains;

/// <summary>
/// The actor for one broadcast path on this edge. It owns the broadcast local subscribers see — stable across
/// route changes — and pumps each requested track from the current route: the local publisher if it is the
/// newest, otherwise the newest publishing edge over one cluster link. One upstream subscription per track,
/// whatever the number of local subscribers; a route change swaps the upstream without touching them.
/// </summary>
public sealed class BroadcastGrain
{
    private readonly object _lock = new();
    private readonly Origin _serving;
    private readonly GrainOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts = new();
    private BroadcastProducer? _output;
    private Publication? _publication;
    private GrainRoute? _route;
    private TaskCompletionSource _routeChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _routeVersion;
    private CancellationTokenSource? _orphanTimer;

    internal BroadcastGrain(MoqPath path, Origin serving, GrainOptions options, ILogger logger)
    {
        Path = path;
        _serving = serving;
        _options = options;
        _logger = logger;
    }

    /// <summary>The broadcast path (absolute).</summary>
    public MoqPath Path { get; }

    /// <summary>The current route, or null while orphaned or idle.</summary>
    public GrainRoute? Route
    {
        get
        {
            lock (_lock)
                return _route;
        }
    }

    /// <summary>True when the grain holds nothing (no route, no broadcast): it can be deactivated.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_lock)
                return _route is null && _output is null;
        }
    }

    /// <summary>
    /// Switches to <paramref name="route"/> (null = no publisher anywhere). The local broadcast is announced
    /// while a route exists; without one it is unannounced at once but its tracks wait <see cref="GrainOptions.OrphanGrace"/>
    /// for a new route, so subscribers resume without resubscribing.
    /// </summary>
    public void SetRoute(GrainRoute? route)
    {
        lock (_lock)
        {
            if (route is null ? _route is null : route.SameSource(_route))
                return;
            _route = route;
            _routeVersion++;
            var changed = _routeChanged;
            _routeChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();

            if (route is not null)
            {
                _orphanTimer?.Cancel();
                _orphanTimer = null;
                if (_output is null)
                {
                    _output = new BroadcastProducer(dynamic: true);
                    _ = ServeRequestsAsync(_output);
                }
                _publication ??= _serving.Publish(Path, _output.Consume(), route.Hops);
                _logger.LogInformation("grain {Path}: route {Kind} via {Node} (epoch {Epoch})", Path, route.IsLocal ? "local" : "remote", route.NodeId, route.Epoch);
            }
            else
            {
                _publication?.Dispose();
                _publication = null;
                _logger.LogInformation("grain {Path}: no route; unannounced, tracks wait {Grace}", Path, _options.OrphanGrace);
                if (_output is not null && _orphanTimer is null)
                {
                    _orphanTimer = new CancellationTokenSource();
                    _ = ExpireOrphanAsync(_output, _orphanTimer.Token);
                }
            }
        }
    }

    private async Task ExpireOrphanAsync(BroadcastProducer output, CancellationToken cancelled)
    {
        try
        {
            await Task.Delay(_options.OrphanGrace, cancelled).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_lock)
        {
            if (_route is not null || _output != output)
                return;
            _output = null;
            _orphanTimer = null;
        }
        output.Finish();
    }

    /// <summary>Ends the grain: the broadcast ends for every local subscriber.</summary>
    public void Deactivate()
    {
        BroadcastProducer? output;
        lock (_lock)
        {
            _route = null;
            _publication?.Dispose();
            _publication = null;
            output = _output;
            _output = null;
            _orphanTimer?.Cancel();
        }
        _cts.Cancel();
        output?.Finish();
    }

    private (GrainRoute? Route, long Version, Task Changed) Snapshot()
    {
        lock (_lock)
            return (_route, _routeVersion, _routeChanged.Task);
    }

    private async Task ServeRequestsAsync(BroadcastProducer output)
    {
        while (await output.RequestedTrackAsync(_cts.Token).ConfigureAwait(false) is { } track)
            _ = PumpAsync(output, track);
    }

    /// <summary>
    /// Feeds one local track from whichever route is current, until nobody consumes it, the broadcast ends,
    /// or its source ends it deliberately.
    /// </summary>
    private async Task PumpAsync(BroadcastProducer output, TrackProducer track)
    {
        var ct = _cts.Token;
        var failures = 0;
        var unused = RetireWhenUnusedAsync(track, output, ct);
        try
        {
            while (!ct.IsCancellationRequested && !track.IsClosed)
            {
                var (route, version, changed) = Snapshot();
                if (route is null)
                {
                    // Orphaned: wait for a route, or for the broadcast to be finished by the orphan timer.
                    if (await Task.WhenAny(changed, output.Closed, unused).ConfigureAwait(false) != changed)
                        return;
                    continue;
                }
                var outcome = await CopyFromAsync(route, changed, unused, track, ct).ConfigureAwait(false);
                switch (outcome)
                {
                    case PumpOutcome.Unused:
                        return;
                    case PumpOutcome.RouteChanged:
                        failures = 0;
                        continue;
                    case PumpOutcome.SourceEnded:
                        // A deliberate end, unless the route moves right after (the publisher reconnecting elsewhere)
                        // or the link carrying it turns out to have died (an edge crash ends its streams before the
                        // session reports the loss; the route only moves when that edge's lease expires).
                        var lost = route.SessionLost?.Invoke() ?? Task.Delay(Timeout.Infinite, ct);
                        var decided = await Task.WhenAny(changed, Task.Delay(_options.UpstreamLinger, ct), lost).ConfigureAwait(false);
                        if (decided == changed)
                            continue;
                        if (decided == lost && !ct.IsCancellationRequested)
                        {
                            _logger.LogInformation("grain {Path}/{Track}: link to {Node} lost; keeping the track for the next route", Path, track.Name, route.NodeId);
                            await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 << Math.Min(failures++, 6))), ct)).ConfigureAwait(false);
                            continue;
                        }
                        track.Finish();
                        return;
                    case PumpOutcome.SourceFailed:
                        // Same route, broken source (link lost): back off, then retry until the route changes.
                        var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 50 << Math.Min(failures++, 6)) * (0.5 + Random.Shared.NextDouble()));
                        await Task.WhenAny(changed, Task.Delay(delay, ct)).ConfigureAwait(false);
                        continue;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            output.TryRetire(track);
        }
    }

    private enum PumpOutcome { Unused, RouteChanged, SourceEnded, SourceFailed }

    /// <summary>The source said no (the track does not exist, or we may not have it): pass that on, don't retry.</summary>
    private static bool IsRefusal(MoqErrorCode code) => code is MoqErrorCode.NotFound or MoqErrorCode.Unauthorized or MoqErrorCode.Unroutable;

    /// <summary>Completes once the track has had no consumer for the linger and was retired from the broadcast.</summary>
    private async Task RetireWhenUnusedAsync(TrackProducer track, BroadcastProducer output, CancellationToken ct)
    {
        while (true)
        {
            await track.WhenUnused.WaitAsync(ct).ConfigureAwait(false);
            await Task.Delay(_options.UpstreamLinger, ct).ConfigureAwait(false);
            if (output.TryRetire(track))
                return;
        }
    }

    private async Task<PumpOutcome> CopyFromAsync(GrainRoute route, Task changed, Task unused, TrackProducer track, CancellationToken ct)
    {
        TrackConsumer source;
        try
        {
            var broadcast = await route.Resolve(ct).ConfigureAwait(false);
            source = broadcast.Subscribe(track.Name, track.AggregateOptions);
        }
        catch (ProtocolException ex) when (IsRefusal(ex.Code))
        {
            track.Abort(ex.Code);
            return PumpOutcome.Unused;
        }
        catch (Exception ex) when (ex is ProtocolException or IOException or TimeoutException)
        {
            _logger.LogDebug("grain {Path}/{Track}: source via {Node} unavailable: {Reason}", Path, track.Name, route.NodeId, ex.Message);
            return PumpOutcome.SourceFailed;
        }
        using (source)
        {
            try
            {
                var info = await source.Track.InfoAsync.WaitAsync(_options.SourceTimeout, ct).ConfigureAwait(false);
                track.SetInfo(info);
            }
            catch (ProtocolException ex) when (IsRefusal(ex.Code))
            {
                track.Abort(ex.Code);
                return PumpOutcome.Unused;
            }
            catch (Exception ex) when (ex is ProtocolException or TimeoutException)
            {
                return PumpOutcome.SourceFailed;
            }

            // Groups flow in their own loop, which resumes on the publisher's receive loop; this one only watches for
            // the route, the local subscribers and their preferences changing.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var groups = CopyGroupsAsync(source, track, stop.Token);
            try
            {
                while (true)
                {
                    var options = track.OptionsChanged();
                    var done = await Task.WhenAny(groups, changed, unused, options).ConfigureAwait(false);
                    if (done == groups)
                        return await groups.ConfigureAwait(false);
                    if (done == unused)
                        return PumpOutcome.Unused;
                    if (done == changed)
                        return PumpOutcome.RouteChanged;
                    // Local subscribers changed their preferences: the one upstream follows the aggregate.
                    if (track.ConsumerCount > 0)
                        source.Update(track.AggregateOptions);
                }
            }
            finally
            {
                // The group loop must be done with the source before it is disposed.
                stop.Cancel();
                try
                {
                    await groups.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>Starts a copy of every group of <paramref name="source"/> as it arrives, until the source ends or fails.</summary>
    private static async Task<PumpOutcome> CopyGroupsAsync(TrackConsumer source, TrackProducer track, CancellationToken ct)
    {
        // Resumes on the thread that appended the group or frame (the publisher's receive loop), and so do the group
        // readers it hands out: a frame reaches the subscribers without a hop.
        source.ResumeInline = true;
        while (true)
        {
            GroupConsumer? group;
            try
            {
                group = await source.NextGroupAsync(ct).ConfigureAwait(false);
            }
            catch (ProtocolException ex) when (IsRefusal(ex.Code))
            {
                track.Abort(ex.Code);
                return PumpOutcome.Unused;
            }
            catch (ProtocolException)
            {
                return PumpOutcome.SourceFailed;
            }
            if (group is null)
                return PumpOutcome.SourceEnded;
            _ = CopyGroupAsync(group, track);
        }
    }

    /// <summary>Copies the frames already in <paramref name="source"/>; true once it has ended.</summary>
    private static bool CopyAvailable(GroupConsumer source, GroupProducer copy)
    {
        bool ended;
        while (source.TryReadFrame(out var frame, out ended))
            copy.WriteFrame(frame);
        return ended;
    }

    private static async Task CopyGroupAsync(GroupConsumer source, TrackProducer track)
    {
        GroupProducer copy;
        try
        {
            copy = track.AppendGroup(source.Sequence);
        }
        catch (ProtocolException ex) when (ex.Code == MoqErrorCode.Duplicate)
        {
            // A new source restarted its sequence numbers: start the cache over.
            track.Restart();
            copy = track.AppendGroup(source.Sequence);
        }
        catch (InvalidOperationException)
        {
            return; // the track closed meanwhile
        }
        try
        {
            // Frames are shared, never copied: only the reference moves. Those already there when the copy starts are
            // copied as one send burst, so each subscriber gets them in one send; later ones arrive on the publisher's
            // receive loop (the reader resumes inline) inside its burst.
            if (!SendBurst.Run((source, copy), static s => CopyAvailable(s.source, s.copy)))
            {
                while (await source.ReadFrameAsync().ConfigureAwait(false) is { } frame)
                    copy.WriteFrame(frame);
            }
            copy.Finish();
        }
        catch (ProtocolException ex)
        {
            copy.Abort(ex.Code);
        }
    }
}
