using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Bench.Load;

/// <summary>One moq-lite publisher session: a broadcast with one track, frames appended to the current group.</summary>
internal sealed class MoqFramePublisher : IFramePublisher
{
    private readonly MoqClient _client;
    private readonly BroadcastProducer _broadcast;
    private readonly TrackProducer _track;
    private readonly RunErrors _errors;
    private GroupProducer? _group;
    private volatile bool _disposing;

    /// <summary>Publishes <paramref name="path"/> on <paramref name="client"/>; an early end of the session is recorded in <paramref name="errors"/>.</summary>
    public MoqFramePublisher(MoqClient client, string path, RunErrors errors)
    {
        _client = client;
        _errors = errors;
        _broadcast = client.Publish(path);
        _track = _broadcast.CreateTrack(MoqTarget.TrackName);
        _ = WatchAsync();
    }

    private async Task WatchAsync()
    {
        var closed = await _client.Closed.ConfigureAwait(false);
        if (!_disposing)
            _errors.Add($"publisher session closed early: code {closed.Code} {closed.Reason}");
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<byte> frame, bool startsGroup)
    {
        if (startsGroup || _group is null)
        {
            _group?.Finish();
            _group = _track.AppendGroup();
        }
        // The model keeps the payload (cache, fan-out), so each frame needs its own array.
        _group.WriteFrame(frame.ToArray());
    }

    /// <inheritdoc/>
    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        _group?.Finish();
        _track.Finish();
        _broadcast.Finish();
        await _client.DisposeAsync().ConfigureAwait(false);
    }
}
