using MoqCluster.Protocol.Model;

namespace MoqCluster.Cluster.Tests;

/// <summary>Writes groups of <see cref="TestFrame"/>s on a track at a steady pace, in the background, until stopped.</summary>
internal sealed class TrackWriter : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _loop;
    private long _next;

    /// <param name="track">The track to write.</param>
    /// <param name="firstSequence">Sequence of the first group (a publisher that reconnects continues its numbering).</param>
    /// <param name="interval">Pause between groups.</param>
    /// <param name="frames">Frames per group.</param>
    public TrackWriter(TrackProducer track, ulong firstSequence, TimeSpan interval, int frames = 3)
    {
        _next = (long)firstSequence;
        _loop = WriteAsync(track, interval, frames);
    }

    /// <summary>The sequence the next group will carry.</summary>
    public ulong NextSequence => (ulong)Interlocked.Read(ref _next);

    private async Task WriteAsync(TrackProducer track, TimeSpan interval, int frames)
    {
        await Task.Yield();
        try
        {
            while (!_cts.IsCancellationRequested && !track.IsClosed)
            {
                var sequence = NextSequence;
                var group = track.AppendGroup(sequence);
                for (var i = 0; i < frames; i++)
                    group.WriteFrame(TestFrame.Create(sequence, i));
                group.Finish();
                Interlocked.Increment(ref _next);
                await Task.Delay(interval, _cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
            // The track (or its session) closed under us: the publisher is gone.
        }
    }

    /// <summary>Stops writing.</summary>
    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await _loop;
    }
}
