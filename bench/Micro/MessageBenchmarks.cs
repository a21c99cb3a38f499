using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;

namespace MoqCluster.Bench.Micro;

/// <summary>Control messages: SUBSCRIBE and ANNOUNCE encode/decode on lite-04.</summary>
[MemoryDiagnoser]
public class MessageBenchmarks
{
    private readonly MessageWriter _writer = new();
    private readonly Subscribe _subscribe = new(42, "demo/room/clock", "seconds", 2, true, 5000, 7, null);
    private readonly Announce _announce = new(AnnounceStatus.Active, "room/clock", [0x1234, 0x5678]);
    private byte[] _subscribeBody = [];
    private byte[] _announceBody = [];

    /// <summary>Pre-encodes the bodies for the decode benchmarks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _subscribeBody = Body(_subscribe);
        _announceBody = Body(_announce);
    }

    private byte[] Body<T>(T message) where T : IMessage<T>
    {
        _writer.Reset();
        message.EncodeBody(_writer, MoqVersion.Lite04);
        return _writer.ToArray();
    }

    /// <summary>Length-prefixed SUBSCRIBE into a reused writer.</summary>
    [Benchmark]
    public int SubscribeEncode()
    {
        _writer.Reset();
        MessageCodec.Encode(_writer, _subscribe, MoqVersion.Lite04);
        return _writer.Length;
    }

    /// <summary>SUBSCRIBE body decode (allocates the record and its strings).</summary>
    [Benchmark]
    public Subscribe SubscribeDecode() => MessageCodec.Decode<Subscribe>(_subscribeBody, MoqVersion.Lite04);

    /// <summary>Length-prefixed ANNOUNCE with two hops into a reused writer.</summary>
    [Benchmark]
    public int AnnounceEncode()
    {
        _writer.Reset();
        MessageCodec.Encode(_writer, _announce, MoqVersion.Lite04);
        return _writer.Length;
    }

    /// <summary>ANNOUNCE body decode (allocates the record, suffix string and hop list).</summary>
    [Benchmark]
    public Announce AnnounceDecode() => MessageCodec.Decode<Announce>(_announceBody, MoqVersion.Lite04);
}
