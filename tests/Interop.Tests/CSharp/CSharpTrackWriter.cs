using MoqCluster.Protocol.Model;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>Writes <see cref="InteropPayload"/> frames on a C# track, the way <c>pub.mjs</c> does.</summary>
internal static class CSharpTrackWriter
{
    /// <summary>Waits until someone consumes <paramref name="track"/> (a downstream or relayed subscription).</summary>
    /// <exception cref="TimeoutException">Nobody subscribed within <paramref name="timeout"/> (a hang guard).</exception>
    public static async Task WaitForSubscriberAsync(TrackProducer track, TimeSpan timeout, Func<string>? describe = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (track.ConsumerCount == 0)
        {
            if (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"no subscriber to track '{track.Name}' within {timeout}\n{describe?.Invoke()}");
            }

            await Task.Delay(10, CancellationToken.None);
        }
    }

    /// <summary>
    /// Appends <paramref name="groups"/> groups (sequences 0, 1, …) of <paramref name="frames"/> frames of
    /// <paramref name="size"/> bytes, pausing <paramref name="interval"/> between groups and, when given, awaiting
    /// <paramref name="afterGroup"/> (e.g. the subscriber reporting that group) before the next one.
    /// </summary>
    public static async Task WriteAsync(TrackProducer track, int groups, int frames, int size, TimeSpan interval, Func<int, Task>? afterGroup = null)
    {
        for (var g = 0; g < groups; g++)
        {
            var group = track.AppendGroup();
            Assert.Equal((ulong)g, group.Sequence);
            for (var f = 0; f < frames; f++)
            {
                group.WriteFrame(InteropPayload.Encode(g, f, size, frames, groups));
            }

            group.Finish();
            if (afterGroup is not null)
            {
                await afterGroup(g);
            }

            if (interval > TimeSpan.Zero)
            {
                await Task.Delay(interval);
            }
        }
    }
}
