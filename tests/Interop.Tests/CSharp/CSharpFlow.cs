using MoqCluster.Protocol.Model;

namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>A C# publisher track feeding a C# subscription (through whatever relay sits between), in lockstep.</summary>
internal static class CSharpFlow
{
    /// <summary>
    /// Reads <paramref name="sink"/> while writing <paramref name="groups"/> groups on <paramref name="source"/>, each
    /// group only once the reader has received the previous one (see <see cref="GroupProgress"/> for why).
    /// </summary>
    public static async Task<TrackReadReport> RunAsync(
        TrackProducer source, TrackConsumer sink, int groups, int frames, int size, TimeSpan interval, TimeSpan timeout, Func<string>? describe = null)
    {
        var progress = new GroupProgress();
        var reading = CSharpTrackReader.ReadAsync(sink, groups, timeout, progress);
        await CSharpTrackWriter.WaitForSubscriberAsync(source, timeout, describe);
        await CSharpTrackWriter.WriteAsync(source, groups, frames, size, interval, g => Task.WhenAny(progress.WaitAsync(g, timeout), reading));
        return await reading;
    }
}
