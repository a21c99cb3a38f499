using System.Threading.Channels;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// The writing half of a broadcast: a set of named tracks. A publisher creates tracks up front; a relay
/// creates a <em>dynamic</em> broadcast whose tracks appear on demand: the first subscriber to an unknown
/// track creates it and queues it as a request (<see cref="RequestedTrackAsync"/>), every later subscriber
/// shares it, which is what keeps one upstream subscription per track.
/// </summary>
public sealed class BroadcastProducer
{
    private readonly object _lock = new();
    private readonly Dictionary<string, TrackProducer> _tracks = new(StringComparer.Ordinal);
    private readonly Channel<TrackProducer>? _requests;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates a broadcast; a dynamic one serves unknown tracks through requests.</summary>
    public BroadcastProducer(bool dynamic = false)
    {
        if (dynamic)
            _requests = Channel.CreateUnbounded<TrackProducer>(new UnboundedChannelOptions { SingleReader = false });
    }

    /// <summary>True when unknown tracks become requests.</summary>
    public bool IsDynamic => _requests is not null;

    /// <summary>Completes when the broadcast is finished.</summary>
    public Task Closed => _closed.Task;

    /// <summary>True once finished.</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Creates (or replaces) a track published up front.</summary>
    public TrackProducer CreateTrack(string name, TrackInfo? info = null)
    {
        var track = new TrackProducer(name, info ?? TrackInfo.Default);
        TrackProducer? old;
        lock (_lock)
        {
            ThrowIfClosed();
            _tracks.TryGetValue(name, out old);
            _tracks[name] = track;
        }
        old?.Finish();
        return track;
    }

    /// <summary>The names of the tracks currently present.</summary>
    public IReadOnlyList<string> TrackNames
    {
        get
        {
            lock (_lock)
                return _tracks.Keys.ToList();
        }
    }

    /// <summary>The next track requested by a subscriber (dynamic broadcasts only); null once the broadcast is closed.</summary>
    public async ValueTask<TrackProducer?> RequestedTrackAsync(CancellationToken cancellationToken = default)
    {
        if (_requests is null)
            throw new InvalidOperationException("not a dynamic broadcast");
        try
        {
            return await _requests.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Removes a requested track once nobody consumes it, so the next subscriber makes a fresh request.
    /// Returns false (and keeps the track) when a consumer joined meanwhile.
    /// </summary>
    public bool TryRetire(TrackProducer track)
    {
        lock (_lock)
        {
            if (track.ConsumerCount > 0 && !track.IsClosed)
                return false;
            if (_tracks.TryGetValue(track.Name, out var current) && current == track)
                _tracks.Remove(track.Name);
        }
        track.Finish();
        return true;
    }

    /// <summary>A reader of this broadcast.</summary>
    public BroadcastConsumer Consume() => new(this);

    internal TrackConsumer Subscribe(string name, SubscriptionOptions? options)
    {
        TrackProducer? requested = null;
        TrackConsumer consumer;
        lock (_lock)
        {
            if (IsClosed)
                throw new ProtocolException(MoqErrorCode.NotFound, "broadcast ended");
            if (!_tracks.TryGetValue(name, out var track) || (track.IsClosed && IsDynamic))
            {
                if (_requests is null)
                    throw new ProtocolException(MoqErrorCode.NotFound, $"track '{name}' not found");
                track = requested = new TrackProducer(name);
                _tracks[name] = track;
            }
            consumer = track.Subscribe(options);
        }
        if (requested is not null && !_requests!.Writer.TryWrite(requested))
            requested.Abort(MoqErrorCode.Closed);
        return consumer;
    }

    internal TrackProducer? Find(string name)
    {
        lock (_lock)
            return _tracks.GetValueOrDefault(name);
    }

    /// <summary>Ends the broadcast and every track in it. Idempotent.</summary>
    public void Finish()
    {
        List<TrackProducer> tracks;
        lock (_lock)
        {
            if (!_closed.TrySetResult())
                return;
            tracks = _tracks.Values.ToList();
            _tracks.Clear();
            _requests?.Writer.TryComplete();
        }
        while (_requests is not null && _requests.Reader.TryRead(out var pending))
            pending.Abort(MoqErrorCode.Closed);
        foreach (var t in tracks)
            t.Finish();
    }

    private void ThrowIfClosed()
    {
        if (IsClosed)
            throw new InvalidOperationException("broadcast is closed");
    }
}
