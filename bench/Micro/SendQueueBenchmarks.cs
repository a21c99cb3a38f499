using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Bench.Micro;

/// <summary>
/// A group stream's send queue, per frame: a frame queued by reference behind its header (holding its group's
/// payloads), then read out into a record, as the QMux writer does for every frame and subscriber. Must allocate
/// nothing.
/// </summary>
[MemoryDiagnoser]
public class SendQueueBenchmarks
{
    private readonly StreamBuffer _queue = new();
    private readonly byte[] _record = new byte[2048];
    private readonly byte[] _header = [0x05, 0x80, 0x04, 0x00];
    private GroupProducer _group = null!;
    private ReadOnlyMemory<byte> _payload;

    /// <summary>A closed one-frame group of 1 KB.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _group = new GroupProducer(0);
        _group.WriteFrame(new byte[1024]);
        _group.Finish();
        _payload = _group.ConsumeLeased()!.ReadFrameAsync().AsTask().GetAwaiter().GetResult()!.Value.Payload;
    }

    /// <summary>Queue one frame by reference and read it out.</summary>
    [Benchmark]
    public int QueueAndReadFrame()
    {
        _queue.AppendShared(_header, _payload, _group);
        return _queue.Read(_record);
    }
}
