using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;

namespace MoqCluster.Bench.Micro;

/// <summary>The media hot path: group stream prefix and per-frame headers. Must allocate nothing.</summary>
[MemoryDiagnoser]
public class GroupBenchmarks
{
    private readonly byte[] _buffer = new byte[64];
    private readonly MessageWriter _writer = new();
    private readonly byte[] _groupBody = [0x2a, 0x80, 0x01, 0x00, 0x00];
    private readonly byte[] _frame04 = new byte[FrameHeader.MaxEncodedSize];
    private readonly byte[] _frame05 = new byte[FrameHeader.MaxEncodedSize];
    private readonly ProtocolLimits _limits = ProtocolLimits.Default;

    /// <summary>Pre-encodes one frame header per format.</summary>
    [GlobalSetup]
    public void Setup()
    {
        new FrameHeader(1200).Write(_frame04, MoqVersion.Lite04);
        new FrameHeader(1200, 33).Write(_frame05, MoqVersion.Lite05);
    }

    /// <summary>Stream type + GROUP header straight into a span.</summary>
    [Benchmark]
    public int GroupHeaderWriteSpan() => new GroupHeader(42, 65536).WriteStreamPrefix(_buffer);

    /// <summary>GROUP header through the reused <see cref="MessageWriter"/>.</summary>
    [Benchmark]
    public int GroupHeaderEncodeWriter()
    {
        _writer.Reset();
        MessageCodec.Encode(_writer, new GroupHeader(42, 65536), MoqVersion.Lite04);
        return _writer.Length;
    }

    /// <summary>GROUP header body decode (a value type: no allocation).</summary>
    [Benchmark]
    public ulong GroupHeaderDecode() => MessageCodec.Decode<GroupHeader>(_groupBody, MoqVersion.Lite04).Sequence;

    /// <summary>lite-04 frame header (size only).</summary>
    [Benchmark]
    public int FrameHeaderWrite04() => new FrameHeader(1200).Write(_buffer, MoqVersion.Lite04);

    /// <summary>lite-05 frame header (zigzag timestamp delta + size).</summary>
    [Benchmark]
    public int FrameHeaderWrite05() => new FrameHeader(1200, 33).Write(_buffer, MoqVersion.Lite05);

    /// <summary>lite-04 frame header read.</summary>
    [Benchmark]
    public int FrameHeaderRead04()
    {
        FrameHeader.TryRead(_frame04, MoqVersion.Lite04, _limits, out var header, out _);
        return header.Size;
    }

    /// <summary>lite-05 frame header read.</summary>
    [Benchmark]
    public long FrameHeaderRead05()
    {
        FrameHeader.TryRead(_frame05, MoqVersion.Lite05, _limits, out var header, out _);
        return header.TimestampDelta + header.Size;
    }
}
