using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Bench.Micro;

/// <summary>
/// One producer fanning a group out to many consumers through the model: append a group of frames,
/// every consumer reads every frame. Payloads are shared, so allocation must not grow with frame size.
/// </summary>
[MemoryDiagnoser]
public class FanoutBenchmarks
{
    private readonly byte[] _payload = new byte[1200];
    private TrackProducer _track = null!;
    private TrackConsumer[] _consumers = [];
    private ulong _sequence;

    /// <summary>Number of consumers reading the track.</summary>
    [Params(1000)]
    public int Consumers { get; set; }

    /// <summary>Frames per group.</summary>
    [Params(1, 30)]
    public int Frames { get; set; }

    /// <summary>Creates the track and its consumers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _track = new TrackProducer("video", TrackInfo.Default);
        _consumers = Enumerable.Range(0, Consumers).Select(_ => _track.Subscribe()).ToArray();
    }

    /// <summary>Disposes the consumers.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var c in _consumers)
            c.Dispose();
    }

    /// <summary>One group of <see cref="Frames"/> frames delivered to every consumer (synchronous fast path).</summary>
    [Benchmark]
    public long GroupToAllConsumers()
    {
        var group = _track.AppendGroup(_sequence++);
        for (var f = 0; f < Frames; f++)
            group.WriteFrame(_payload, f);
        group.Finish();
        long bytes = 0;
        foreach (var consumer in _consumers)
        {
            var next = consumer.NextGroupAsync();
            var reader = next.IsCompletedSuccessfully ? next.Result! : next.AsTask().GetAwaiter().GetResult()!;
            while (reader.TryReadFrame(out var frame, out _))
                bytes += frame.Payload.Length;
        }
        return bytes;
    }
}
