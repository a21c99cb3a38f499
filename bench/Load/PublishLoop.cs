using System.Diagnostics;
using MoqCluster.Protocol.Transport;

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

    private readonly record struct Burst(PublishLoop Loop, byte[] Frame, long First, int Count);

    private void Write(Burst burst)
    {
        for (long sequence = burst.First; sequence < burst.First + burst.Count; sequence++)
        {
            FramePayload.Stamp(burst.Frame, sequence);
            publisher.Write(burst.Frame, sequence % workload.GroupFrames == 0);
            if (window.IsOpen)
                Interlocked.Increment(ref _published);
        }
    }

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
                    if (fps > 0)
                    {
                        // Fixed rate: sleep until the next frame is due.
                        var wait = (sequence / fps - Stopwatch.GetElapsedTime(started).TotalSeconds) * 1000;
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, wait)), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        // Saturating: until the subscribers' average lets a quarter of the window go again.
                        var resume = sequence - 1 - workload.WindowFrames + Math.Max(1, workload.WindowFrames / 4);
                        await progress.WaitForAverageAsync(resume, cancellationToken).ConfigureAwait(false);
                    }
                    continue;
                }
                var burst = new Burst(this, frame, sequence, (int)Math.Min(allowed, MaxBurst));
                // One burst: the frames due now leave the publisher's session together, as a real publisher
                // writing several frames at once would send them.
                SendBurst.Run(burst, static b => b.Loop.Write(b));
                sequence += burst.Count;
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
