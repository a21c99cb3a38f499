using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Bench.Load;

/// <summary>
/// One moq-lite subscriber session: subscribes to track <c>t</c> of each broadcast and reads every group
/// concurrently (a group is its own stream, so a slow group must not delay the next one's frames).
/// </summary>
internal sealed class MoqSubscriberSession : IAsyncDisposable
{
    private readonly MoqClient _client;
    private readonly RunErrors _errors;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TrackConsumer> _tracks = [];
    private readonly List<Task> _readers = [];

    /// <summary>Subscribes on <paramref name="client"/> and starts reading.</summary>
    public MoqSubscriberSession(MoqClient client, IReadOnlyList<(int Broadcast, SubscriptionStats Stats)> subscriptions, RunErrors errors)
    {
        _client = client;
        _errors = errors;
        foreach (var (broadcast, stats) in subscriptions)
        {
            var track = client.Consume(MoqTarget.PathOf(broadcast)).Subscribe(MoqTarget.TrackName);
            _tracks.Add(track);
            _readers.Add(ReadTrackAsync(track, stats, _stop.Token));
        }
        _ = WatchAsync();
    }

    private async Task WatchAsync()
    {
        var closed = await _client.Closed.ConfigureAwait(false);
        if (!_stop.IsCancellationRequested)
            _errors.Add($"subscriber session closed early: code {closed.Code} {closed.Reason}");
    }

    private async Task ReadTrackAsync(TrackConsumer track, SubscriptionStats stats, CancellationToken ct)
    {
        try
        {
            // Leased: frames are checked on arrival and not kept, so the client's pooled payloads are reused.
            // No token on the waits (here and per frame): a cancellable wait allocates a cancellation promise each
            // time; teardown ends them instead (the token is cancelled first, then the tracks and the session close).
            while (await track.NextLeasedGroupAsync().ConfigureAwait(false) is { } group)
            {
                // Frames are checked and dropped at once, so they are read on the session's receive loop, as the
                // NATS subscriber reads its messages: the latency then has no thread-pool hop per frame in it. New
                // groups still start on the thread pool: starting them on the receive loop as well cost about a
                // quarter of the generator's throughput with 100 subscriptions per session (100 × 8; A/B, 4 pairs).
                group.ResumeInline = true;
                _ = ReadGroupAsync(group, stats, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _errors.Add("reading a track", ex);
        }
        catch (Exception)
        {
            // torn down
        }
    }

    private async Task ReadGroupAsync(GroupConsumer group, SubscriptionStats stats, CancellationToken ct)
    {
        var sequence = (long)group.Sequence;
        try
        {
            while (true)
            {
                while (group.TryReadFrame(out var frame, out _))
                    stats.OnFrame(frame.Payload.Span, sequence);
                if (await group.ReadFrameAsync().ConfigureAwait(false) is not { } next)
                    return;
                stats.OnFrame(next.Payload.Span, sequence);
            }
        }
        catch (ProtocolException ex) when (ex.Code == MoqErrorCode.Old)
        {
            // The relay gave up on a group superseded beyond the latency bound: a drop by design, not a failure.
            stats.OnGroupAborted();
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _errors.Add("reading a group", ex);
        }
        catch (Exception)
        {
            // torn down
        }
        finally
        {
            group.Dispose();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var track in _tracks)
            track.Dispose();
        await _client.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
