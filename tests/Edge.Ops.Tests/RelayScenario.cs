using System.Text;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>Building blocks shared by the in-process tests: a publisher's broadcast and reading groups.</summary>
internal static class RelayScenario
{
    public static TrackInfo Info { get; } = new(0, false, TimeSpan.FromSeconds(30), 1000);

    /// <summary>A local origin with one broadcast at <paramref name="path"/> and the given tracks.</summary>
    public static (Origin Origin, BroadcastProducer Broadcast, TrackProducer[] Tracks) Broadcast(string path, params string[] tracks)
    {
        var origin = new Origin();
        var broadcast = origin.Producer().CreateBroadcast(MoqPath.Parse(path));
        return (origin, broadcast, tracks.Select(t => broadcast.CreateTrack(t, Info)).ToArray());
    }

    public static void WriteGroup(TrackProducer track, params string[] frames)
    {
        var group = track.AppendGroup();
        foreach (var frame in frames)
            group.WriteFrame(Encoding.UTF8.GetBytes(frame));
        group.Finish();
    }

    /// <summary>Reads the next group completely and returns its frames as text.</summary>
    public static async Task<List<string>> ReadGroupAsync(TrackConsumer consumer)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var group = await consumer.NextGroupAsync(guard.Token) ?? throw new InvalidOperationException("track ended");
        var frames = new List<string>();
        while (await group.ReadFrameAsync(guard.Token) is { } frame)
            frames.Add(Encoding.UTF8.GetString(frame.Payload.Span));
        return frames;
    }
}
