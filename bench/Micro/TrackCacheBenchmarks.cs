using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Bench.Micro;

/// <summary>
/// Appending to a track whose cache is full of small groups (an audio track with a group per frame keeps up to
/// <see cref="TrackProducer.MaxCachedGroups"/> of them): the cost of the byte-budget check on every append.
/// </summary>
[MemoryDiagnoser]
public class TrackCacheBenchmarks
{
    private readonly byte[] _payload = new byte[160];
    private TrackProducer _track = null!;
    private ulong _sequence;

    /// <summary>A track whose cache already holds <see cref="TrackProducer.MaxCachedGroups"/> one-frame groups.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _track = new TrackProducer("audio", TrackInfo.Default with { MaxLatency = TimeSpan.FromHours(1) });
        for (var i = 0; i < TrackProducer.MaxCachedGroups; i++)
            AppendOneFrameGroup();
    }

    /// <summary>One one-frame group appended, written and finished.</summary>
    [Benchmark]
    public void AppendOneFrameGroup()
    {
        var group = _track.AppendGroup(_sequence++);
        group.WriteFrame(_payload, 0);
        group.Finish();
    }
}
