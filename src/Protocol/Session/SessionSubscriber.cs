using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;
using TrackInfoMessage = MoqCluster.Protocol.Messages.TrackInfo;

namespace MoqCluster.Protocol.Session;

/// <summary>
/// The half of a session that learns and consumes the peer's broadcasts: one ANNOUNCE_PLEASE per allowed
/// prefix, a dynamic broadcast per announced path, one SUBSCRIBE per requested track (shared by every local
/// consumer), and the group streams that feed them.
/// </summary>
/// <remarks>
/// Every session on an edge has one, and most (subscribers) never receive an announcement or subscribe upstream:
/// its tables are plain dictionaries under one lock, which hold no buckets until first used (a concurrent
/// dictionary costs about half a kilobyte per table even empty), and the on-demand discovery origin is created
/// by the first client call that needs it.
/// </remarks>
internal sealed class SessionSubscriber(MoqSession session, OriginProducer? origin)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, TrackProducer> _subscriptions = [];
    // Value: true for an announced broadcast (counted by the observer), false for one consumed by path.
    private readonly Dictionary<BroadcastProducer, bool> _broadcasts = [];
    private long _nextId = -1;

    private MoqVersion Version => session.Version;

    public void Start()
    {
        if (origin is null)
            return;
        foreach (var prefix in origin.Allowed)
            _ = RunAnnounceAsync(prefix, origin);
    }

    // On-demand discovery (client API): the origin it fills and the prefixes already asked for; under _lock.
    private Origin? _discovered;
    private HashSet<MoqPath>? _requested;

    /// <summary>
    /// Asks the peer for announcements under <paramref name="prefix"/> (once per prefix) and returns a feed of them,
    /// for clients that discover on demand rather than through <see cref="SessionOptions.Subscribe"/>.
    /// </summary>
    public AnnouncedConsumer Announced(MoqPath prefix)
    {
        Origin discovered;
        bool first;
        lock (_lock)
        {
            discovered = _discovered ??= new Origin();
            first = (_requested ??= []).Add(prefix);
        }
        var feed = discovered.Consumer().Announced(prefix);
        if (first)
            _ = RunAnnounceAsync(prefix, discovered.Producer());
        return feed;
    }

    /// <summary>A broadcast the peer announced on an on-demand feed, if any.</summary>
    public BroadcastConsumer? FindDiscovered(MoqPath path)
    {
        Origin? discovered;
        lock (_lock)
            discovered = _discovered;
        return discovered?.Find(path);
    }

    /// <summary>
    /// Ends what the session consumed. Announced broadcasts are left to their Announce loops when they linger
    /// (<see cref="SessionOptions.AbruptEndLinger"/>): the session's cancellation ends those loops, which defer the end.
    /// </summary>
    public void Shutdown()
    {
        var linger = session.Options.AbruptEndLinger > TimeSpan.Zero;
        List<BroadcastProducer> finish = [];
        List<TrackProducer> abort;
        lock (_lock)
        {
            foreach (var (b, announced) in _broadcasts)
                if (!(linger && announced))
                    finish.Add(b);
            abort = [.. _subscriptions.Values];
        }
        // Outside the lock: ending them runs their owners' code.
        foreach (var b in finish)
            b.Finish();
        foreach (var t in abort)
            t.Abort(MoqErrorCode.Closed);
    }

    /// <summary>How long an announce stream's failure waits to see whether the whole session is going (and lingers).</summary>
    private static readonly TimeSpan LossGrace = TimeSpan.FromMilliseconds(250);

    private async Task RunAnnounceAsync(MoqPath prefix, OriginProducer target)
    {
        IBidiStream? stream = null;
        var active = new Dictionary<MoqPath, (BroadcastProducer Broadcast, Publication? Publication)>();
        var lost = false;
        try
        {
            stream = await session.Connection.OpenBidiAsync(session.Token).ConfigureAwait(false);
            using (var writer = new MessageWriter())
            {
                writer.WriteVarInt((ulong)StreamType.Announce);
                MessageCodec.Encode(writer, new AnnouncePlease(prefix, Version.HasExcludeHop() ? session.Options.OriginId : 0), Version);
                await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: session.Token).ConfigureAwait(false);
            }
            using var reader = new MoqStreamReader(stream.Recv, session.Limits);
            ulong responder = 0;
            if (Version.HasAnnounceInit())
            {
                var init = await reader.TryReadMessageAsync<AnnounceInit>(Version, session.Token).ConfigureAwait(false);
                foreach (var suffix in init?.Suffixes ?? [])
                    Activate(target, active, prefix.Join(suffix), Hops(new Announce(AnnounceStatus.Active, suffix), 0), restartAllowed: false);
            }
            else if (Version.HasAnnounceOk())
            {
                var ok = await reader.TryReadMessageAsync<AnnounceOk>(Version, session.Token).ConfigureAwait(false);
                responder = ok?.HopId ?? 0;
            }
            while (true)
            {
                // Announcements are rare: wait for one with a single parked read, not the whole decoding chain.
                await reader.WaitForDataAsync(session.Token).ConfigureAwait(false);
                if (await reader.TryReadMessageAsync<Announce>(Version, session.Token).ConfigureAwait(false) is not { } announce)
                    break;
                var path = prefix.Join(announce.Suffix);
                if (announce.Status == AnnounceStatus.Ended)
                {
                    if (active.Remove(path, out var gone))
                        End(gone.Broadcast, gone.Publication);
                    continue;
                }
                Activate(target, active, path, Hops(announce, responder), Version.AllowsAnnounceRestart());
            }
        }
        catch (Exception ex)
        {
            // Losing the session (not the peer closing this request) is what a publisher linger covers.
            lost = ex is OperationCanceledException or ConnectionClosedException || session.Token.IsCancellationRequested;
            session.HandleStreamError(ex, stream?.Send, stream?.Recv);
        }
        finally
        {
            // A dying transport may end or reset this stream a moment before the connection reports closed: give it
            // that moment before deciding the broadcasts ended on purpose.
            if (!lost && session.Options.AbruptEndLinger > TimeSpan.Zero && active.Count > 0)
            {
                var closed = session.Connection.Closed;
                await Task.WhenAny(closed, Task.Delay(LossGrace)).ConfigureAwait(false);
                lost = closed.IsCompleted || session.Token.IsCancellationRequested;
            }
            // Whatever was learned on this stream is gone with it, at once or after the linger.
            if (lost && session.Options.AbruptEndLinger > TimeSpan.Zero && active.Count > 0)
                _ = LingerAsync(active.Values.ToList());
            else
                foreach (var (broadcast, publication) in active.Values)
                    End(broadcast, publication);
        }
    }

    /// <summary>
    /// Keeps broadcasts of a lost session published for <see cref="SessionOptions.AbruptEndLinger"/>, then ends
    /// them. A publisher that reconnects meanwhile announces the same paths again and, being newest, takes over.
    /// </summary>
    private async Task LingerAsync(List<(BroadcastProducer Broadcast, Publication? Publication)> lingering)
    {
        var linger = session.Options.AbruptEndLinger;
        session.Options.Observer?.PublisherLingering(lingering.Count);
        session.Logger.LogInformation("moq session lost: {Count} announced broadcast(s) linger for {Linger}", lingering.Count, linger);
        try
        {
            await Task.Delay(linger).ConfigureAwait(false);
        }
        finally
        {
            foreach (var (broadcast, publication) in lingering)
                End(broadcast, publication);
        }
    }

    /// <summary>The hop chain as we store it: lite-04 as received, lite-05 plus the responder, otherwise a per-session id.</summary>
    private IReadOnlyList<ulong> Hops(Announce announce, ulong responder)
    {
        var hops = new List<ulong>(announce.Hops);
        if (Version.HasAnnounceOk() && responder != 0)
            hops.Add(responder);
        if (hops.Count == 0)
            hops.Add(session.PeerOrigin != 0 ? session.PeerOrigin : SessionLocalId);
        return hops;
    }

    /// <summary>Stands for the peer in hop chains when its version gives no ids, so every route has an attributable first hop.</summary>
    private ulong SessionLocalId { get; } = SessionOptions.NewOriginId();

    private void Activate(OriginProducer target, Dictionary<MoqPath, (BroadcastProducer, Publication?)> active, MoqPath path, IReadOnlyList<ulong> hops, bool restartAllowed)
    {
        if (hops.Contains(session.Options.OriginId))
        {
            session.Logger.LogDebug("moq ignoring looped announcement of {Path}", path);
            return;
        }
        if (active.Remove(path, out var existing))
        {
            if (!restartAllowed)
                throw new ProtocolException(MoqErrorCode.Duplicate, $"duplicate active announcement of '{path}'");
            End(existing.Item1, existing.Item2);
        }
        var broadcast = new BroadcastProducer(dynamic: true);
        var publication = target.Publish(path, broadcast.Consume(), hops);
        if (publication is null)
        {
            session.Logger.LogInformation("moq peer announced '{Path}' outside its publish grants; ignored", path);
            broadcast.Finish();
            return;
        }
        active[path] = (broadcast, publication);
        lock (_lock)
            _broadcasts.TryAdd(broadcast, true);
        session.Options.Observer?.AnnouncesReceived(1);
        _ = ServeRequestsAsync(path, broadcast);
    }

    private void End(BroadcastProducer broadcast, Publication? publication)
    {
        publication?.Dispose();
        broadcast.Finish();
        bool announced;
        lock (_lock)
            announced = _broadcasts.Remove(broadcast, out var wasAnnounced) && wasAnnounced;
        if (announced)
            session.Options.Observer?.AnnouncesReceived(-1);
    }

    /// <summary>A broadcast consumed by path without an announcement (client API).</summary>
    public BroadcastConsumer ConsumeDirect(MoqPath path)
    {
        var broadcast = new BroadcastProducer(dynamic: true);
        lock (_lock)
            _broadcasts.TryAdd(broadcast, false);
        _ = ServeRequestsAsync(path, broadcast);
        return broadcast.Consume();
    }

    private async Task ServeRequestsAsync(MoqPath path, BroadcastProducer broadcast)
    {
        try
        {
            while (await broadcast.RequestedTrackAsync(session.Token).ConfigureAwait(false) is { } track)
            {
                track.CacheBytes = session.Options.SubscribedTrackCacheBytes;
                _ = RunUpstreamAsync(path, broadcast, track);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunUpstreamAsync(MoqPath path, BroadcastProducer broadcast, TrackProducer track)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        IBidiStream? stream = null;
        session.Options.Observer?.UpstreamSubscriptions(1);
        try
        {
            track.SetInfo(Version.HasTrackInfo() ? await RequestTrackInfoAsync(path, track.Name).ConfigureAwait(false) : Model.TrackInfo.Default);

            // Register before SUBSCRIBE: group streams can race the response.
            lock (_lock)
                _subscriptions[id] = track;
            var options = track.AggregateOptions;
            stream = await session.Connection.OpenBidiAsync(session.Token).ConfigureAwait(false);
            using var writer = new MessageWriter();
            writer.WriteVarInt((ulong)StreamType.Subscribe);
            MessageCodec.Encode(writer, new Subscribe(id, path, track.Name, options.Priority, options.Ordered,
                (ulong)options.MaxLatency.TotalMilliseconds, options.StartGroup, options.EndGroup), Version);
            await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: session.Token).ConfigureAwait(false);

            using var reader = new MoqStreamReader(stream.Recv, session.Limits);
            await ReadFirstResponseAsync(reader).ConfigureAwait(false);
            var responses = ReadResponsesAsync(reader);
            while (true)
            {
                var changed = track.OptionsChanged();
                var unused = track.WhenUnused;
                var done = await Task.WhenAny(responses, changed, unused).ConfigureAwait(false);
                if (done == responses)
                {
                    await responses.ConfigureAwait(false);
                    track.Finish();
                    return;
                }
                if (done == unused)
                {
                    await Task.Delay(session.Options.UpstreamLinger, session.Token).ConfigureAwait(false);
                    if (!broadcast.TryRetire(track))
                        continue;
                    // Unsubscribe: close our half; the publisher FINs or resets its half.
                    await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true).ConfigureAwait(false);
                    return;
                }
                var aggregate = track.AggregateOptions;
                if (Version.HasSubscribeOptions() && aggregate != options && track.ConsumerCount > 0)
                {
                    options = aggregate;
                    writer.Reset();
                    MessageCodec.Encode(writer, new SubscribeUpdate(options.Priority, options.Ordered,
                        (ulong)options.MaxLatency.TotalMilliseconds, options.StartGroup, options.EndGroup), Version);
                    await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: session.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            var code = ex switch
            {
                StreamAbortedException sa => Enum.IsDefined(typeof(MoqErrorCode), sa.Code) ? (MoqErrorCode)sa.Code : MoqErrorCode.NotFound,
                ProtocolException pe => pe.Code,
                _ => MoqErrorCode.Closed,
            };
            track.Abort(code);
            broadcast.TryRetire(track);
            if (ex is not StreamAbortedException)
                session.HandleStreamError(ex, stream?.Send, stream?.Recv);
        }
        finally
        {
            lock (_lock)
                _subscriptions.Remove(id);
            session.Options.Observer?.UpstreamSubscriptions(-1);
        }
    }

    private async Task<Model.TrackInfo> RequestTrackInfoAsync(MoqPath path, string name)
    {
        var stream = await session.Connection.OpenBidiAsync(session.Token).ConfigureAwait(false);
        using var writer = new MessageWriter();
        writer.WriteVarInt((ulong)StreamType.Track);
        MessageCodec.Encode(writer, new TrackRequest(path, name), Version);
        await stream.Send.WriteAsync(writer.WrittenMemory, fin: true, session.Token).ConfigureAwait(false);
        using var reader = new MoqStreamReader(stream.Recv, session.Limits);
        var info = await reader.ReadMessageAsync<TrackInfoMessage>(Version, session.Token).ConfigureAwait(false);
        return new Model.TrackInfo(info.Priority, info.Ordered, TimeSpan.FromMilliseconds(info.MaxLatencyMs), info.Timescale);
    }

    private async Task ReadFirstResponseAsync(MoqStreamReader reader)
    {
        if (Version.UsesLegacySetup())
        {
            await reader.ReadMessageAsync<SubscribeOk>(Version, session.Token).ConfigureAwait(false);
        }
        else if (Version.HasTypedSubscribeOk())
        {
            var (type, body) = await reader.TryReadTypedAsync(session.Token).ConfigureAwait(false)
                ?? throw new ProtocolException(MoqErrorCode.Cancel, "subscription closed before SUBSCRIBE_OK");
            if (type != SubscribeOk.TypeCode(Version))
                throw new ProtocolException(MoqErrorCode.ProtocolViolation, $"first subscribe response has type {type}, not SUBSCRIBE_OK");
            MessageCodec.Decode<SubscribeOk>(body.Span, Version, session.Limits);
        }
    }

    /// <summary>Reads responses until the publisher FINs (track over). lite-03/04 send nothing more; lite-05 sends START/END/DROP.</summary>
    private async Task ReadResponsesAsync(MoqStreamReader reader)
    {
        while (true)
        {
            // Responses are rare: wait for one with a single parked read, not the whole decoding chain.
            await reader.WaitForDataAsync(session.Token).ConfigureAwait(false);
            if (await reader.TryReadTypedAsync(session.Token).ConfigureAwait(false) is not { } message)
                break;
            // START, END and DROP are informational here: groups themselves drive the model.
            if (!Version.HasSubscribeOptions())
                throw new ProtocolException(MoqErrorCode.UnexpectedMessage, "unexpected data after SUBSCRIBE_OK");
            _ = message;
        }
    }

    /// <summary>
    /// Receives one group stream into its track, then disposes <paramref name="reader"/>. Never throws: a failure
    /// resets or stops the stream, or closes the session, as <see cref="MoqSession.HandleStreamError"/> decides.
    /// </summary>
    public async Task ReceiveGroupAsync(MoqStreamReader reader)
    {
        try
        {
            var header = await reader.ReadMessageAsync<GroupHeader>(Version, session.Token).ConfigureAwait(false);
            TrackProducer? track;
            lock (_lock)
                _subscriptions.TryGetValue(header.SubscribeId, out track);
            if (track is null)
            {
                // A group for an id we never issued (or already dropped): stop that stream only.
                reader.Stream.StopSending((ulong)MoqErrorCode.NotFound);
                return;
            }
            GroupProducer group;
            try
            {
                group = track.AppendGroup(header.Sequence);
            }
            catch (Exception ex) when (ex is ProtocolException or InvalidOperationException)
            {
                reader.Stream.StopSending((ulong)MoqErrorCode.Duplicate);
                return;
            }
            long frames = 0, bytes = 0, timestamp = 0;
            try
            {
                while (true)
                {
                    ulong size;
                    if (Version.HasTrackInfo())
                    {
                        if (await reader.TryReadVarIntAsync(session.Token).ConfigureAwait(false) is not { } delta)
                            break;
                        timestamp += VarInt.ZigZagDecode(delta);
                        size = await reader.ReadVarIntAsync(session.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        if (await reader.TryReadVarIntAsync(session.Token).ConfigureAwait(false) is not { } s)
                            break;
                        size = s;
                        // Older versions carry no timestamps: stamp with our monotonic clock in milliseconds.
                        timestamp = (long)(Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency);
                    }
                    if (size > (ulong)session.Limits.MaxFrameSize)
                        throw new ProtocolException(MoqErrorCode.FrameTooLarge, $"frame of {size} bytes exceeds limit {session.Limits.MaxFrameSize}");
                    if (size == 0)
                    {
                        group.WriteFrame(ReadOnlyMemory<byte>.Empty, timestamp);
                    }
                    else
                    {
                        // Pooled: the group returns the array once no reader and no send queue can see it.
                        var payload = PayloadPool.Shared.Rent((int)size);
                        try
                        {
                            await reader.ReadExactlyAsync(payload.AsMemory(0, (int)size), session.Token).ConfigureAwait(false);
                            group.WritePooledFrame(payload, (int)size, timestamp);
                        }
                        catch
                        {
                            // Never shared with anyone: safe to hand back.
                            PayloadPool.Shared.Return(payload);
                            throw;
                        }
                    }
                    frames++;
                    bytes += (long)size;
                }
                group.Finish();
                session.Options.Observer?.GroupReceived(frames, bytes);
            }
            catch (StreamAbortedException ex)
            {
                group.Abort(Enum.IsDefined(typeof(MoqErrorCode), ex.Code) ? (MoqErrorCode)ex.Code : MoqErrorCode.Cancel);
            }
            catch (InvalidOperationException) when (group.IsClosed)
            {
                // The track ended under this group (its last subscriber left, or it was closed here): nobody wants the
                // rest of the stream. A race, not an error: stop it quietly.
                reader.Stream.StopSending((ulong)MoqErrorCode.Cancel);
            }
            catch (Exception)
            {
                group.Abort(MoqErrorCode.Cancel);
                throw;
            }
        }
        catch (Exception ex)
        {
            session.HandleStreamError(ex, null, reader.Stream);
        }
        finally
        {
            reader.Dispose();
        }
    }
}
