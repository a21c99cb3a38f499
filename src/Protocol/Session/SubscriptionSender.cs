using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Session;

/// <summary>
/// Serves one downstream subscription: answers per version, then opens one uni stream per group in arrival
/// order. In-flight groups are bounded; when the peer does not keep up, stale groups are reset (code Old)
/// instead of queued, so a slow subscriber costs only itself.
/// </summary>
/// <remarks>
/// Groups are sent by long-lived workers, started as in-flight groups need them (most subscriptions need one or
/// two) and reused group after group, each with its own waiter and cancellation source. A task, a linked token
/// source, a closure and a bookkeeping record per group and subscriber were most of what a relay allocated per
/// group; now a group costs its subscriber the stream alone (the worker holds the group and keeps its own cursor).
/// </remarks>
internal sealed class SubscriptionSender(MoqSession session, IBidiStream stream, MoqStreamReader reader, OriginConsumer origin, RequestQuota quota)
{
    /// <summary>Idle workers kept for the next groups; more finish instead (a burst of in-flight groups is rare).</summary>
    private const int MaxIdleWorkers = 2;

    private readonly Lock _lock = new();
    // Created with the first group: an idle subscription holds no workers, slots or buffers.
    private List<GroupWorker>? _workers;
    private Stack<GroupWorker>? _idle;
    private SemaphoreSlim? _slots;
    // The main loop's waits for the next group: a new group resumes it on the thread that appended the group.
    private readonly AsyncWaiter _waiter = new() { WakeInline = true };
    private bool _stopping;
    // Set by ReadUpdatesAsync when it ends, before it cancels the subscription's token.
    private bool _unsubscribed;
    private Subscribe _request = null!;
    private TrackConsumer _track = null!;
    private MoqVersion Version => session.Version;

    /// <summary>
    /// Reads the SUBSCRIBE, serves it until it ends, then disposes the reader. Never throws: failures go to
    /// <see cref="MoqSession.HandleStreamError"/>. One state machine for the whole subscription, from the request
    /// to its end: an edge holds one per idle subscriber.
    /// </summary>
    public async Task RunAsync()
    {
        if (!quota.TryEnter())
        {
            session.RefuseOverLimit(stream, quota);
            reader.Dispose();
            return;
        }
        TrackConsumer? track = null;
        try
        {
            try
            {
                var request = _request = await reader.ReadMessageAsync<Subscribe>(Version, session.Token).ConfigureAwait(false);
                var broadcast = origin.Consume(request.Broadcast)
                    ?? throw new ProtocolException(MoqErrorCode.NotFound, $"broadcast '{request.Broadcast}' not found");
                var options = new SubscriptionOptions(request.Priority, request.Ordered, TimeSpan.FromMilliseconds(request.MaxLatencyMs), request.StartGroup, request.EndGroup);
                track = _track = broadcast.Subscribe(request.Track, options);
                session.Options.Observer?.Subscriptions(1);
                // Cancelled at the session's end, and when the subscriber unsubscribes (after ReadUpdatesAsync ended): that
                // ends the waits for the next group and for a free slot.
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(session.Token);
                var ct = cts.Token;
                try
                {
                    await RespondAsync(ct).ConfigureAwait(false);
                    var updates = ReadUpdatesAsync(cts, ct);
                    ulong? highest = null;
                    var startSent = false;
                    while (true)
                    {
                        // Waits on the loop's own waiter, right here: a helper method would be a state machine per group.
                        GroupProducer? group;
                        try
                        {
                            while (!track.TryNextLeasedGroup(out group, _waiter, ct, out var wait))
                                await wait.ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (Volatile.Read(ref _unsubscribed) && !session.Token.IsCancellationRequested)
                        {
                            await UnsubscribeAsync(updates).ConfigureAwait(false);
                            return;
                        }
                        if (group is null)
                            break;
                        if (Version.HasSubscribeStart() && !startSent)
                        {
                            await WriteTypedAsync(new SubscribeStart(group.Sequence), ct).ConfigureAwait(false);
                            startSent = true;
                        }
                        highest = highest is { } h ? Math.Max(h, group.Sequence) : group.Sequence;
                        GroupWorker worker;
                        try
                        {
                            worker = await AcquireWorkerAsync(ct).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (Volatile.Read(ref _unsubscribed) && !session.Token.IsCancellationRequested)
                        {
                            group.ReleaseHold();
                            await UnsubscribeAsync(updates).ConfigureAwait(false);
                            return;
                        }
                        catch
                        {
                            group.ReleaseHold();
                            throw;
                        }
                        Assign(worker, group);
                    }

                    // Track finished: lite-05 reports the exclusive end, then FIN once groups are done.
                    if (Version.HasSubscribeStart())
                        await WriteTypedAsync(new SubscribeEnd(highest is { } last ? last + 1 : 0), ct).ConfigureAwait(false);
                    await StopWorkers().ConfigureAwait(false);
                    await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true, ct).ConfigureAwait(false);
                }
                catch (ProtocolException ex) when (!session.Token.IsCancellationRequested)
                {
                    // The track was aborted upstream (or not found): refuse/abort this subscription only.
                    CancelAll();
                    session.Logger.LogDebug("moq subscription {Id} to {Broadcast}/{Track} ended: {Reason}", request.Id, request.Broadcast, request.Track, ex.Message);
                    stream.Send.Reset((ulong)ex.Code);
                }
                finally
                {
                    await cts.CancelAsync().ConfigureAwait(false);
                    CancelAll();
                    _ = StopWorkers();
                }
            }
            finally
            {
                // Before the stream is reset for an error: a peer that sees the reset may subscribe again at once.
                if (track is not null)
                {
                    track.Dispose();
                    session.Options.Observer?.Subscriptions(-1);
                }
                quota.Exit();
            }
        }
        catch (Exception ex)
        {
            session.HandleStreamError(ex, stream.Send, stream.Recv);
        }
        finally
        {
            reader.Dispose();
        }
    }

    /// <summary>The subscriber unsubscribed (FIN) or reset: stop opening groups, reset those in flight, FIN our half.</summary>
    private async Task UnsubscribeAsync(Task updates)
    {
        await updates.ConfigureAwait(false);
        CancelAll();
        await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true).ConfigureAwait(false);
    }

    private async Task RespondAsync(CancellationToken ct)
    {
        // A writer per message: they are few (one or two per subscription), and an idle subscription keeps no buffer.
        using var writer = new MessageWriter();
        if (Version == MoqVersion.Lite01)
            MessageCodec.Encode(writer, new SubscribeOk(_request.Priority), Version);
        else if (Version == MoqVersion.Lite02)
            MessageCodec.Encode(writer, new SubscribeOk(0), Version);
        else if (Version.HasTypedSubscribeOk())
            MessageCodec.EncodeTyped(writer, new SubscribeOk(_request.Priority), Version);
        else
            return; // lite-05: acceptance is implicit; SUBSCRIBE_START follows with the first group.
        await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: ct).ConfigureAwait(false);
    }

    private async Task WriteTypedAsync<T>(T message, CancellationToken ct) where T : ITypedMessage<T>
    {
        using var writer = new MessageWriter();
        MessageCodec.EncodeTyped(writer, message, Version);
        await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies SUBSCRIBE_UPDATEs until the subscriber closes its half (unsubscribe), then cancels
    /// <paramref name="unsubscribed"/> (the subscription's source) so the main loop stops waiting for groups.
    /// </summary>
    private async Task ReadUpdatesAsync(CancellationTokenSource unsubscribed, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                if (!Version.HasSubscribeOptions())
                {
                    await reader.DrainAsync(ct).ConfigureAwait(false);
                    return;
                }
                // Updates are rare: wait for one with a single parked read, not the whole decoding chain.
                await reader.WaitForDataAsync(ct).ConfigureAwait(false);
                var update = await reader.TryReadMessageAsync<SubscribeUpdate>(Version, ct).ConfigureAwait(false);
                if (update is null)
                    return;
                // New and in-flight groups follow the new window; in-flight send orders keep their value.
                _track.Update(new SubscriptionOptions(update.Priority, update.Ordered, TimeSpan.FromMilliseconds(update.MaxLatencyMs), update.StartGroup, update.EndGroup));
            }
        }
        catch (StreamAbortedException)
        {
        }
        finally
        {
            // Flag first: the main loop tells an unsubscribe from the session's end by it. Cancelled asynchronously:
            // the main loop's continuation must not run inside this one.
            Volatile.Write(ref _unsubscribed, true);
            try { _ = unsubscribed.CancelAsync(); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>A free slot and an idle (or new) worker for it.</summary>
    private async ValueTask<GroupWorker> AcquireWorkerAsync(CancellationToken ct)
    {
        SemaphoreSlim slots;
        lock (_lock)
        {
            slots = _slots ??= new SemaphoreSlim(session.Options.MaxGroupsInFlight, session.Options.MaxGroupsInFlight);
            _workers ??= [];
            _idle ??= new Stack<GroupWorker>();
        }
        // While every slot is busy, reset in-flight groups that went stale so a stalled peer cannot pin them.
        while (!await slots.WaitAsync(TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false))
        {
            lock (_lock)
            {
                foreach (var w in _workers)
                    if (w.Group is { } busy && _track.IsStale(busy))
                        w.CancelLocked();
            }
        }
        lock (_lock)
        {
            if (_idle.TryPop(out var idle))
                return idle;
            var worker = new GroupWorker();
            _workers.Add(worker);
            return worker;
        }
    }

    /// <summary>
    /// Hands <paramref name="group"/> to <paramref name="worker"/>, starting its loop the first time. A parked worker
    /// resumes right here, outside the lock, and opens the group before this returns: no hop per group and subscriber.
    /// </summary>
    private void Assign(GroupWorker worker, GroupProducer group)
    {
        bool claimed;
        lock (_lock)
        {
            worker.Group = group;
            if (worker.Loop is null)
            {
                worker.Loop = RunWorkerAsync(worker);
                return;
            }
            // Claimed under the lock, where the worker parks between groups: its waiter may otherwise be parked on a
            // group's frames by the time this runs.
            claimed = worker.AwaitsGroup && worker.Waiter.TryClaim();
            worker.AwaitsGroup = false;
        }
        if (claimed)
            worker.Waiter.CompleteClaimed();
    }

    /// <summary>No more groups: idle workers end now, busy ones after their group. Completes when all have ended.</summary>
    private Task StopWorkers()
    {
        List<Task> loops = [];
        lock (_lock)
        {
            _stopping = true;
            foreach (var w in _workers ?? [])
            {
                if (w.Loop is { } loop)
                    loops.Add(loop);
                if (w.Group is null && w.AwaitsGroup)
                {
                    w.AwaitsGroup = false;
                    w.Waiter.Wake();
                }
            }
        }
        return Task.WhenAll(loops);
    }

    private void CancelAll()
    {
        lock (_lock)
        {
            foreach (var w in _workers ?? [])
                if (w.Group is not null)
                    w.CancelLocked();
        }
    }

    /// <summary>
    /// One worker: sends the groups it is handed, one at a time, until the subscription ends. For each group it opens
    /// the stream and writes every frame, then FIN, or resets the stream (Old when stale, else Cancel or the error's
    /// code) when the group fails. All in this one method: its only awaits are on waits the worker owns, so a group
    /// costs no state machine of its own however long it waits for frames.
    /// </summary>
    private async Task RunWorkerAsync(GroupWorker worker)
    {
        // Not on the main loop's thread: it goes straight back to waiting for the next group.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        while (true)
        {
            GroupProducer? group;
            ValueTask assigned = default;
            lock (_lock)
            {
                group = worker.Group;
                if (group is null)
                {
                    if (_stopping)
                        return;
                    assigned = worker.Waiter.Arm(null, default);
                    worker.AwaitsGroup = true;
                }
            }
            if (group is null)
            {
                await assigned.ConfigureAwait(false);
                continue;
            }

            ISendStream? uni = null;
            var cancel = worker.Cancel.Token;
            // Per group, not per worker: an idle worker holds no buffer.
            // From the payload pool, which keeps thousands of these: a group boundary takes one per subscriber at once.
            var header = PayloadPool.Shared.Rent(GroupWriter.HeaderBufferSize);
            try
            {
                // The stream and its header wait for the first frame (or the end): they leave in one send with it,
                // instead of a send of their own per subscriber at every group boundary, and a group dropped before
                // its first frame costs the subscriber no stream at all.
                var pending = new GroupHeader(_request.Id, group.Sequence).WriteStreamPrefix(header);
                long bytes = 0, previous = 0;
                var frames = 0;
                while (true)
                {
                    if (!group.TryGetFrame(frames, out var frame, out var ended, worker.Waiter, cancel, out var wait))
                    {
                        if (ended)
                            break;
                        await wait.ConfigureAwait(false);
                        continue;
                    }
                    if (_track.IsStale(group))
                        throw new ProtocolException(MoqErrorCode.Old, "group superseded beyond the latency bound");
                    uni ??= await OpenGroupStreamAsync(group, cancel).ConfigureAwait(false);
                    await GroupWriter.WriteFrameAsync(uni, group, frame, previous, Version, header, pending, cancel).ConfigureAwait(false);
                    pending = 0;
                    previous = frame.Timestamp;
                    frames++;
                    bytes += frame.Payload.Length;
                }
                uni ??= await OpenGroupStreamAsync(group, cancel).ConfigureAwait(false);
                await uni.WriteAsync(header.AsMemory(0, pending), fin: true, cancel).ConfigureAwait(false);
                session.Options.Observer?.GroupSent(frames, bytes);
            }
            catch (Exception ex)
            {
                var code = ex switch
                {
                    ProtocolException pe => pe.Code,
                    OperationCanceledException when _track.IsStale(group) => MoqErrorCode.Old,
                    _ => MoqErrorCode.Cancel,
                };
                uni?.Reset((ulong)code);
                if (ex is not ConnectionClosedException)
                    session.Options.Observer?.GroupDropped(code);
            }
            finally
            {
                PayloadPool.Shared.Return(header);
                // After the last write: bytes still queued in QMux hold the payloads on their own.
                group.ReleaseHold();
                // The group's token registration, kept across its frames, ends with it (before its source is reset).
                worker.Waiter.EndRegistration();
            }

            bool exit;
            lock (_lock)
            {
                worker.Group = null;
                // A cancelled source cannot be reused; one that was not is reset for the next group.
                if (!worker.Cancel.TryReset())
                {
                    worker.Cancel.Dispose();
                    worker.Cancel = new CancellationTokenSource();
                }
                exit = _stopping || _idle!.Count >= MaxIdleWorkers;
                if (exit)
                    _workers!.Remove(worker);
                else
                    _idle!.Push(worker);
            }
            _slots!.Release();
            if (exit)
                return;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ISendStream> OpenGroupStreamAsync(GroupProducer group, CancellationToken cancel)
    {
        var uni = await session.Connection.OpenUniAsync(cancel).ConfigureAwait(false);
        uni.SendOrder = SendOrder(group.Sequence);
        return uni;
    }

    private long SendOrder(ulong sequence)
    {
        // Higher first: subscriber priority dominates; within the track newest first unless ordered.
        var position = _track.Options.Ordered ? -(long)(sequence & 0xFFFF_FFFFFF) : (long)(sequence & 0xFFFF_FFFFFF);
        return ((long)_track.Options.Priority << 48) + position;
    }

    /// <summary>A group sender reused from group to group. Its fields are guarded by the sender's lock.</summary>
    private sealed class GroupWorker
    {
        /// <summary>The group being sent (or just handed over), held until sent; null while idle.</summary>
        public GroupProducer? Group;

        /// <summary>Cancels the current group only (staleness, unsubscribe, session end).</summary>
        public CancellationTokenSource Cancel = new();

        /// <summary>
        /// Parks the worker between groups and while its group waits for frames (never both at once). A new frame
        /// resumes it on the thread that appended the frame (<see cref="AsyncWaiter.WakeInline"/>).
        /// </summary>
        public readonly AsyncWaiter Waiter = new() { WakeInline = true, KeepsRegistration = true };

        /// <summary>The worker's loop, once started.</summary>
        public Task? Loop;

        /// <summary>True while <see cref="Waiter"/> is parked waiting for the next group (not for a group's frames).</summary>
        public bool AwaitsGroup;

        /// <summary>
        /// Cancels the current group. Under the sender's lock, so it cannot hit the next group's reset source; callbacks
        /// run on the thread pool, not inside that lock.
        /// </summary>
        public void CancelLocked() => _ = Cancel.CancelAsync();
    }
}
