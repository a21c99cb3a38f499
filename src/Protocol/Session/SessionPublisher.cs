using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;
using TrackInfoMessage = MoqCluster.Protocol.Messages.TrackInfo;

namespace MoqCluster.Protocol.Session;

/// <summary>
/// The half of a session that serves the peer's requests from an <see cref="OriginConsumer"/>: announcements
/// (Announce streams), subscriptions (Subscribe streams, one uni stream per group), and on lite-05 TRACK and FETCH.
/// </summary>
internal sealed class SessionPublisher(MoqSession session, OriginConsumer origin)
{
    private readonly RequestQuota _subscriptions = new("subscriptions", session.Options.MaxSubscriptions);
    private readonly RequestQuota _announceRequests = new("announce_requests", session.Options.MaxAnnounceRequests);

    private MoqVersion Version => session.Version;

    public async Task ServeAnnounceAsync(IBidiStream stream, MoqStreamReader reader)
    {
        if (!_announceRequests.TryEnter())
        {
            session.RefuseOverLimit(stream, _announceRequests);
            return;
        }
        session.Options.Observer?.AnnounceRequests(1);
        try
        {
            await ServeAnnounceRequestAsync(stream, reader).ConfigureAwait(false);
        }
        finally
        {
            _announceRequests.Exit();
            session.Options.Observer?.AnnounceRequests(-1);
        }
    }

    private async Task ServeAnnounceRequestAsync(IBidiStream stream, MoqStreamReader reader)
    {
        var please = await reader.ReadMessageAsync<AnnouncePlease>(Version, session.Token).ConfigureAwait(false);
        var prefix = please.Prefix;
        using var writer = new MessageWriter();
        using var feed = origin.CanSeeUnder(prefix) ? origin.Announced(prefix) : null;
        var visible = new HashSet<MoqPath>();
        var initial = feed?.Initial.Where(a => IsVisible(a, please.ExcludeHop)).ToList() ?? [];

        if (Version.HasAnnounceInit())
        {
            MessageCodec.Encode(writer, new AnnounceInit(initial.Select(a => Suffix(a.Path, prefix)).ToList()), Version);
        }
        else
        {
            if (Version.HasAnnounceOk())
                MessageCodec.Encode(writer, new AnnounceOk(session.Options.OriginId, initial.Count), Version);
            foreach (var a in initial)
                EncodeAnnounce(writer, AnnounceStatus.Active, Suffix(a.Path, prefix), a.Hops);
        }
        foreach (var a in initial)
            visible.Add(a.Path);
        if (writer.Length > 0)
            await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: session.Token).ConfigureAwait(false);
        for (var i = 0; i < initial.Count; i++)
            session.Options.Observer?.AnnounceSent();

        // The peer ends the request by closing its half; watch for that while streaming changes.
        using var done = CancellationTokenSource.CreateLinkedTokenSource(session.Token);
        var peerEnd = reader.DrainAsync(done.Token).AsTask();
        if (feed is null)
        {
            await peerEnd.ConfigureAwait(false);
            await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true).ConfigureAwait(false);
            return;
        }
        try
        {
            while (true)
            {
                var next = feed.NextAsync(done.Token).AsTask();
                if (await Task.WhenAny(next, peerEnd).ConfigureAwait(false) == peerEnd)
                    break;
                var change = await next.ConfigureAwait(false);
                if (change is null)
                    break;
                writer.Reset();
                var suffix = Suffix(change.Path, prefix);
                var shown = visible.Contains(change.Path);
                if (change.IsActive && IsVisible(change, please.ExcludeHop))
                {
                    // Only lite-05 reads a second "active" as a replacement; older peers need ended first.
                    if (shown && !Version.AllowsAnnounceRestart())
                        EncodeAnnounce(writer, AnnounceStatus.Ended, suffix, []);
                    EncodeAnnounce(writer, AnnounceStatus.Active, suffix, change.Hops);
                    visible.Add(change.Path);
                }
                else if (shown)
                {
                    EncodeAnnounce(writer, AnnounceStatus.Ended, suffix, []);
                    visible.Remove(change.Path);
                }
                if (writer.Length > 0)
                {
                    await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: session.Token).ConfigureAwait(false);
                    session.Options.Observer?.AnnounceSent();
                }
            }
            await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true).ConfigureAwait(false);
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
        }
    }

    private bool IsVisible(Announcement a, ulong excludeHop)
    {
        // Never reflect a broadcast back towards the hop it came from (exclude hop, or lite-05 SETUP origin).
        foreach (var hop in a.Hops)
            if ((excludeHop != 0 && hop == excludeHop) || (session.PeerOrigin != 0 && hop == session.PeerOrigin))
                return false;
        return true;
    }

    private static MoqPath Suffix(MoqPath path, MoqPath prefix) => path.StripPrefix(prefix) ?? path;

    private void EncodeAnnounce(MessageWriter writer, AnnounceStatus status, MoqPath suffix, IReadOnlyList<ulong> hops)
    {
        Announce message;
        if (status == AnnounceStatus.Ended || Version.HasAnnounceInit())
            message = new Announce(status, suffix);
        else if (Version.HasHopCount())
            message = new Announce(status, suffix, hopCount: hops.Count + 1);
        else if (Version.HasAnnounceOk())
            message = new Announce(status, suffix, hops); // lite-05: the receiver appends our id from ANNOUNCE_OK
        else
            message = new Announce(status, suffix, [.. hops.Take(session.Limits.MaxHops - 1), session.Options.OriginId]);
        MessageCodec.Encode(writer, message, Version);
    }

    /// <summary>
    /// Serves a Subscribe stream until it ends, then disposes <paramref name="reader"/>; never throws (failures go to
    /// <see cref="MoqSession.HandleStreamError"/>). The caller hands the stream over without awaiting: the whole
    /// subscription is one state machine (<see cref="SubscriptionSender.RunAsync"/>), which matters for an edge
    /// holding thousands of idle subscriptions.
    /// </summary>
    public Task ServeSubscribeAsync(IBidiStream stream, MoqStreamReader reader) =>
        new SubscriptionSender(session, stream, reader, origin, _subscriptions).RunAsync();

    public async Task ServeTrackAsync(IBidiStream stream, MoqStreamReader reader)
    {
        var request = await reader.ReadMessageAsync<TrackRequest>(Version, session.Token).ConfigureAwait(false);
        var broadcast = origin.Consume(request.Broadcast)
            ?? throw new ProtocolException(MoqErrorCode.NotFound, $"broadcast '{request.Broadcast}' not found");
        if (broadcast.Producer.Find(request.Track) is { InfoAsync.IsCompletedSuccessfully: true, IsClosed: false } known)
        {
            await WriteTrackInfoAsync(stream, known.Info).ConfigureAwait(false);
            return;
        }
        // Unknown yet (a relay asks upstream): holding a consumer briefly keeps that upstream alive for the
        // SUBSCRIBE that usually follows.
        var probe = broadcast.Subscribe(request.Track);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(session.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var info = await probe.Track.InfoAsync.WaitAsync(timeout.Token).ConfigureAwait(false);
            await WriteTrackInfoAsync(stream, info).ConfigureAwait(false);
        }
        finally
        {
            _ = Task.Delay(TimeSpan.FromSeconds(2)).ContinueWith(_ => probe.Dispose(), TaskScheduler.Default);
        }
    }

    private async Task WriteTrackInfoAsync(IBidiStream stream, Model.TrackInfo info)
    {
        using var writer = new MessageWriter();
        MessageCodec.Encode(writer, new TrackInfoMessage(info.Priority, info.Ordered, (ulong)info.MaxLatency.TotalMilliseconds, info.Timescale), Version);
        await stream.Send.WriteAsync(writer.WrittenMemory, fin: true, session.Token).ConfigureAwait(false);
    }

    public async Task ServeFetchAsync(IBidiStream stream, MoqStreamReader reader)
    {
        var fetch = await reader.ReadMessageAsync<Fetch>(Version, session.Token).ConfigureAwait(false);
        var broadcast = origin.Consume(fetch.Broadcast)
            ?? throw new ProtocolException(MoqErrorCode.NotFound, $"broadcast '{fetch.Broadcast}' not found");
        using var track = broadcast.Subscribe(fetch.Track, new SubscriptionOptions(fetch.Priority, StartGroup: fetch.Group, EndGroup: fetch.Group));
        var group = track.Track.FindGroup(fetch.Group)
            ?? throw new ProtocolException(MoqErrorCode.NotFound, $"group {fetch.Group} is not cached");
        stream.Send.SendOrder = (long)fetch.Priority << 48;
        using (var leased = group.ConsumeLeased() ?? throw new ProtocolException(MoqErrorCode.NotFound, $"group {fetch.Group} is not cached"))
            await GroupWriter.WriteFramesAsync(stream.Send, leased, Version, baseline: 0, session.Token).ConfigureAwait(false);
        await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true, session.Token).ConfigureAwait(false);
    }
}
