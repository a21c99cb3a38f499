using System.Buffers;
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
internal sealed class SubscriptionSender(MoqSession session, IBidiStream stream, MoqStreamReader reader, Subscribe request, TrackConsumer track)
{
    private readonly List<InFlight> _inFlight = [];
    private readonly SemaphoreSlim _slots = new(session.Options.MaxGroupsInFlight, session.Options.MaxGroupsInFlight);
    private readonly MessageWriter _writer = new();
    private MoqVersion Version => session.Version;

    private sealed record InFlight(GroupConsumer Group, CancellationTokenSource Cancel, Task Task);

    public async Task RunAsync()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(session.Token);
        var ct = cts.Token;
        try
        {
            await RespondAsync(ct).ConfigureAwait(false);
            var updates = ReadUpdatesAsync(ct);
            ulong? highest = null;
            var startSent = false;
            while (true)
            {
                var next = track.NextLeasedGroupAsync(ct).AsTask();
                if (await Task.WhenAny(next, updates).ConfigureAwait(false) == updates)
                {
                    // The subscriber unsubscribed (FIN) or reset: stop opening groups and reset those in flight.
                    // A group that arrives anyway was leased for nobody: let it go.
                    _ = next.ContinueWith(static t => { if (t.IsCompletedSuccessfully) t.Result?.Dispose(); }, TaskScheduler.Default);
                    await updates.ConfigureAwait(false);
                    CancelAll();
                    await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true).ConfigureAwait(false);
                    return;
                }
                var group = await next.ConfigureAwait(false);
                if (group is null)
                    break;
                if (Version.HasSubscribeStart() && !startSent)
                {
                    await WriteTypedAsync(new SubscribeStart(group.Sequence), ct).ConfigureAwait(false);
                    startSent = true;
                }
                highest = highest is { } h ? Math.Max(h, group.Sequence) : group.Sequence;
                try
                {
                    await AcquireSlotAsync(ct).ConfigureAwait(false);
                }
                catch
                {
                    group.Dispose();
                    throw;
                }
                StartGroup(group, ct);
            }

            // Track finished: lite-05 reports the exclusive end, then FIN once groups are done.
            if (Version.HasSubscribeStart())
                await WriteTypedAsync(new SubscribeEnd(highest is { } last ? last + 1 : 0), ct).ConfigureAwait(false);
            await Task.WhenAll(Snapshot().Select(f => f.Task)).ConfigureAwait(false);
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
            _writer.Dispose();
        }
    }

    private async Task RespondAsync(CancellationToken ct)
    {
        _writer.Reset();
        if (Version == MoqVersion.Lite01)
            MessageCodec.Encode(_writer, new SubscribeOk(request.Priority), Version);
        else if (Version == MoqVersion.Lite02)
            MessageCodec.Encode(_writer, new SubscribeOk(0), Version);
        else if (Version.HasTypedSubscribeOk())
            MessageCodec.EncodeTyped(_writer, new SubscribeOk(request.Priority), Version);
        else
            return; // lite-05: acceptance is implicit; SUBSCRIBE_START follows with the first group.
        await stream.Send.WriteAsync(_writer.WrittenMemory, cancellationToken: ct).ConfigureAwait(false);
    }

    private async Task WriteTypedAsync<T>(T message, CancellationToken ct) where T : ITypedMessage<T>
    {
        _writer.Reset();
        MessageCodec.EncodeTyped(_writer, message, Version);
        await stream.Send.WriteAsync(_writer.WrittenMemory, cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>Applies SUBSCRIBE_UPDATEs until the subscriber closes its half (unsubscribe).</summary>
    private async Task ReadUpdatesAsync(CancellationToken ct)
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
                var update = await reader.TryReadMessageAsync<SubscribeUpdate>(Version, ct).ConfigureAwait(false);
                if (update is null)
                    return;
                // New and in-flight groups follow the new window; in-flight send orders keep their value.
                track.Update(new SubscriptionOptions(update.Priority, update.Ordered, TimeSpan.FromMilliseconds(update.MaxLatencyMs), update.StartGroup, update.EndGroup));
            }
        }
        catch (StreamAbortedException)
        {
        }
    }

    private async Task AcquireSlotAsync(CancellationToken ct)
    {
        // While every slot is busy, reset in-flight groups that went stale so a stalled peer cannot pin them.
        while (!await _slots.WaitAsync(TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false))
        {
            foreach (var f in Snapshot())
                if (track.IsStale(f.Group.Group))
                    f.Cancel.Cancel();
        }
    }

    private long SendOrder(ulong sequence)
    {
        // Higher first: subscriber priority dominates; within the track newest first unless ordered.
        var position = track.Options.Ordered ? -(long)(sequence & 0xFFFF_FFFFFF) : (long)(sequence & 0xFFFF_FFFFFF);
        return ((long)track.Options.Priority << 48) + position;
    }

    private void StartGroup(GroupConsumer group, CancellationToken ct)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var task = SendGroupAsync(group, cancel);
        lock (_inFlight)
            _inFlight.Add(new InFlight(group, cancel, task));
    }

    private async Task SendGroupAsync(GroupConsumer group, CancellationTokenSource cancel)
    {
        await Task.Yield();
        ISendStream? uni = null;
        try
        {
            uni = await session.Connection.OpenUniAsync(cancel.Token).ConfigureAwait(false);
            uni.SendOrder = SendOrder(group.Sequence);
            var prefix = ArrayPool<byte>.Shared.Rent(32);
            try
            {
                var length = new GroupHeader(request.Id, group.Sequence).WriteStreamPrefix(prefix);
                await uni.WriteAsync(prefix.AsMemory(0, length), cancellationToken: cancel.Token).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(prefix);
            }
            var (frames, bytes) = await GroupWriter.WriteFramesAsync(uni, group, Version, 0, cancel.Token, () => track.IsStale(group.Group)).ConfigureAwait(false);
            await uni.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true, cancel.Token).ConfigureAwait(false);
            session.Options.Observer?.GroupSent(frames, bytes);
        }
        catch (Exception ex)
        {
            var code = ex switch
            {
                ProtocolException pe => pe.Code,
                OperationCanceledException when track.IsStale(group.Group) => MoqErrorCode.Old,
                _ => MoqErrorCode.Cancel,
            };
            uni?.Reset((ulong)code);
            if (ex is not ConnectionClosedException)
                session.Options.Observer?.GroupDropped(code);
        }
        finally
        {
            lock (_inFlight)
                _inFlight.RemoveAll(f => f.Group == group);
            // After the last write: bytes still queued in QMux hold the payloads on their own.
            group.Dispose();
            cancel.Dispose();
            _slots.Release();
        }
    }

    private List<InFlight> Snapshot()
    {
        lock (_inFlight)
            return [.. _inFlight];
    }

    private void CancelAll()
    {
        foreach (var f in Snapshot())
        {
            try
            {
                f.Cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
