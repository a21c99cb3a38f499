namespace MoqCluster.Protocol.Model;

/// <summary>A reader of a broadcast; cheap to create and share.</summary>
public sealed class BroadcastConsumer
{
    private readonly BroadcastProducer _broadcast;

    internal BroadcastConsumer(BroadcastProducer broadcast) => _broadcast = broadcast;

    /// <summary>The producer behind this consumer (identity of the broadcast).</summary>
    public BroadcastProducer Producer => _broadcast;

    /// <summary>Completes when the broadcast ends.</summary>
    public Task Closed => _broadcast.Closed;

    /// <summary>True once the broadcast ended.</summary>
    public bool IsClosed => _broadcast.IsClosed;

    /// <summary>
    /// Subscribes to a track. Throws <see cref="Coding.ProtocolException"/> with NotFound when the track
    /// does not exist and the broadcast is not dynamic, or the broadcast ended.
    /// </summary>
    public TrackConsumer Subscribe(string track, SubscriptionOptions? options = null) => _broadcast.Subscribe(track, options);

    /// <summary>The properties of a track; for a dynamic broadcast this requests the track and waits for them.</summary>
    public async Task<TrackInfo> GetTrackInfoAsync(string track, CancellationToken cancellationToken = default)
    {
        var existing = _broadcast.Find(track);
        if (existing is not null && existing.InfoAsync.IsCompletedSuccessfully)
            return existing.InfoAsync.Result;
        using var probe = Subscribe(track, SubscriptionOptions.Default);
        return await probe.Track.InfoAsync.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
