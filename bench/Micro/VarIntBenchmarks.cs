using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Bench.Micro;

/// <summary>Varint write and read over a mix of 1, 2, 4 and 8-byte values.</summary>
[MemoryDiagnoser]
public class VarIntBenchmarks
{
    private static readonly ulong[] Values = [5, 300, 70_000, 5_000_000_000];
    private readonly byte[] _buffer = new byte[64];
    private int _encodedLength;

    /// <summary>Pre-encodes the values for the read benchmark.</summary>
    [GlobalSetup]
    public void Setup() => _encodedLength = WriteAll();

    /// <summary>Writes the four values.</summary>
    [Benchmark(OperationsPerInvoke = 4)]
    public int Write() => WriteAll();

    /// <summary>Reads the four values back.</summary>
    [Benchmark(OperationsPerInvoke = 4)]
    public ulong Read()
    {
        var span = _buffer.AsSpan(0, _encodedLength);
        ulong sum = 0;
        while (!span.IsEmpty)
        {
            VarInt.TryRead(span, out var value, out var n);
            sum += value;
            span = span[n..];
        }
        return sum;
    }

    private int WriteAll()
    {
        var n = 0;
        foreach (var value in Values)
            n += VarInt.Write(_buffer.AsSpan(n), value);
        return n;
    }
}
