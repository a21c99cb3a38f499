using System.Runtime.CompilerServices;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// One subscriber's view of a track: its own cursor, start/end window and latency bound. Dispose it to
/// unsubscribe; the producer counts live consumers.
/// </summary>
public sealed class TrackConsumer : IDisposable
{
    private readonly TrackProducer _track;
    // Groups above the end group, held until an update raises it; created by the first such group.
    private List<GroupProducer>? _held;
    private long _cursor;
    private int _disposed;

    internal TrackConsumer(TrackProducer track, SubscriptionOptions options, long cursor)
    {
        _track = track;
        Options = options;
        _cursor = cursor;
    }

    /// <summary>Arrival index of the next group this consumer will look at; read under the producer's lock.</summary>
    internal long Cursor => _cursor;

    /// <summary>The track this consumer reads.</summary>
    public TrackProducer Track => _track;

    /// <summary>
    /// Whether a parked wait for the next group resumes on the thread that appended it (a session's receive loop)
    /// instead of the thread pool; the group readers it hands out do the same (<see cref="GroupConsumer.ResumeInline"/>).
    /// Off by default; only for readers whose code between two waits is short and never blocks.
    /// </summary>
    public bool ResumeInline { get; set; }

    /// <summary>The track name.</summary>
    public string Name => _track.Name;

    /// <summary>The current preferences.</summary>
    public SubscriptionOptions Options { get; private set; }

    /// <summary>
    /// The next group in arrival order within this consumer's window; null when the track finished.
    /// Groups above the end group are held until <see cref="Update"/> raises it; stale groups are skipped.
    /// </summary>
    public ValueTask<GroupConsumer?> NextGroupAsync(CancellationToken cancellationToken = default) => NextAsync(leased: false, cancellationToken);

    /// <summary>
    /// Like <see cref="NextGroupAsync"/>, but the group is read through a lease: its frames' payloads are valid only
    /// until the returned reader is disposed, which lets a relay reuse pooled payload memory. Dispose every reader.
    /// </summary>
    public ValueTask<GroupConsumer?> NextLeasedGroupAsync(CancellationToken cancellationToken = default) => NextAsync(leased: true, cancellationToken);

    /// <summary>
    /// The next group with a hold on its payloads (<see cref="GroupProducer.TryLease"/>; the caller releases it),
    /// without a state machine or a reader object: true with the group, true with null when the track finished, or
    /// false with <paramref name="waiter"/> parked until the track changes (<paramref name="wait"/>, then try again).
    /// For a relay's sender loop, which owns its waiter and keeps its own cursor in the group.
    /// </summary>
    internal bool TryNextLeasedGroup(out GroupProducer? group, AsyncWaiter waiter, CancellationToken cancellationToken, out ValueTask wait)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            group = _track.NextFor(this, ref _cursor, out var ended, waiter, cancellationToken, out wait);
            if (group is null)
                return ended;
            // False only for a group that already left the cache and was recycled: as if it had been evicted.
            if (group.TryLease())
                return true;
        }
    }

    /// <summary>
    /// True with the next group's reader, or with null when the track finished; false when it must wait: with
    /// <paramref name="waiter"/> parked (<paramref name="wait"/>), or without one to park.
    /// </summary>
    private bool TryNext(bool leased, out GroupConsumer? group, AsyncWaiter? waiter, CancellationToken cancellationToken, out ValueTask wait)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var next = _track.NextFor(this, ref _cursor, out var ended, waiter, cancellationToken, out wait);
            if (next is null)
            {
                group = null;
                return ended;
            }
            if (!leased)
            {
                group = next.Consume();
                group.ResumeInline = ResumeInline;
                return true;
            }
            // Null only for a group that already left the cache and was recycled: as if it had been evicted.
            if (next.ConsumeLeased() is { } lease)
            {
                lease.ResumeInline = ResumeInline;
                group = lease;
                return true;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<GroupConsumer?> NextAsync(bool leased, CancellationToken cancellationToken)
    {
        // Borrowed only to park, as in GroupConsumer.ReadFrameAsync: no allocation per group waited for.
        AsyncWaiter? waiter = null;
        try
        {
            while (true)
            {
                if (TryNext(leased, out var group, waiter, cancellationToken, out var wait))
                    return group;
                if (waiter is null)
                    waiter = AsyncWaiter.Rent(ResumeInline); // and look again, parking this time
                else
                    await wait.ConfigureAwait(false);
            }
        }
        finally
        {
            if (waiter is not null)
                AsyncWaiter.Return(waiter);
        }
    }

    /// <summary>Replaces the preferences (SUBSCRIBE_UPDATE); held groups inside the new window are released.</summary>
    public void Update(SubscriptionOptions options)
    {
        Options = options;
        _track.OptionsUpdated();
    }

    /// <summary>
    /// True when <paramref name="group"/> has been superseded for longer than this consumer's effective latency
    /// bound (the subscriber's, clamped to the publisher's; the publisher's when the subscriber gave none).
    /// </summary>
    public bool IsStale(GroupProducer group) => IsStale(group, Environment.TickCount64);

    private bool IsStale(GroupProducer group, long now)
    {
        if (group.SupersededAt is not { } at)
            return false;
        var bound = _track.Info.MaxLatency;
        if (Options.MaxLatency > TimeSpan.Zero && Options.MaxLatency < bound)
            bound = Options.MaxLatency;
        return now - at > (long)bound.TotalMilliseconds;
    }

    internal bool Accepts(GroupProducer group, long now, out bool hold)
    {
        hold = false;
        if (Options.StartGroup is { } start && group.Sequence < start)
            return false;
        if (IsStale(group, now))
            return false;
        if (Options.EndGroup is { } end && group.Sequence > end)
        {
            hold = true;
            return false;
        }
        return true;
    }

    internal void Hold(GroupProducer group)
    {
        _held ??= [];
        if (_held.Count >= TrackProducer.MaxCachedGroups)
            _held.RemoveAt(0);
        _held.Add(group);
    }

    internal GroupProducer? TakeReleased()
    {
        if (_held is not { Count: > 0 })
            return null;
        var now = Environment.TickCount64;
        for (var i = 0; i < _held.Count; i++)
        {
            var group = _held[i];
            if (Options.EndGroup is { } end && group.Sequence > end)
                continue;
            _held.RemoveAt(i);
            if (!IsStale(group, now))
                return group;
            i--;
        }
        return null;
    }

    /// <summary>Unsubscribes. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _track.Unsubscribe(this);
    }
}
