using System.Diagnostics;

namespace MoqCluster.Bench.Load;

/// <summary>
/// Drives one publisher: at a fixed rate (frames due by now are sent, so a slow sender catches up in
/// bursts) or saturating (as fast as the subscribers' average position allows, within a window).
/// Every frame carries its send time and sequence.
/// </summary>
internal sealed class PublishLoop(IFramePublisher publisher, BroadcastProgress progress, Workload workload, MeasurementWindow window)
{
    private const int MaxBurst = 256;
    private long _published;

    /// <summary>Frames sent while the measurement window was open.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Sends until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var frame = new byte[Math.Max(FramePayload.HeaderSize, workload.FrameBytes)];
        var fps = workload.FramesPerSecond;
        var started = Stopwatch.GetTimestamp();
        long sequence = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                long allowed;
                if (fps > 0)
                    allowed = (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * fps) + 1 - sequence;
                else
                    allowed = progress.Average is { } average ? (long)average + 1 + workload.WindowFrames - sequence : 0;
                if (allowed <= 0)
                {
                    // Fixed rate: sleep until the next frame is due; saturating: poll the window.
                    var wait = fps > 0 ? (sequence / fps - Stopwatch.GetElapsedTime(started).TotalSeconds) * 1000 : 1;
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, wait)), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                allowed = Math.Min(allowed, MaxBurst);
                for (var i = 0; i < allowed; i++, sequence++)
                {
                    FramePayload.Stamp(frame, sequence);
                    publisher.Write(frame, sequence % workload.GroupFrames == 0);
                    if (window.IsOpen)
                        Interlocked.Increment(ref _published);
                }
                await publisher.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (fps <= 0)
                    await Task.Yield(); // let the receivers on this core advance the window
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
