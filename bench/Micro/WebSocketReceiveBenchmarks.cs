using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Bench.Micro;

/// <summary>
/// The client's WebSocket receive path, per record, without the kernel: our <see cref="WebSocketClientChannel"/>
/// against the framework's client WebSocket (<see cref="WebSocket.CreateFromStream(Stream, bool, string?, TimeSpan)"/>,
/// the engine behind <c>ClientWebSocket</c>, wrapped in <see cref="WebSocketRecordChannel"/> as the client used to be).
/// Both read the same server frames from a stream that replays them from memory, so the difference is the framing.
/// </summary>
[MemoryDiagnoser]
public class WebSocketReceiveBenchmarks
{
    private const int RecordsPerOperation = 1000;

    private IRecordChannel _ours = null!;
    private IRecordChannel _framework = null!;

    /// <summary>Record size: a 1 KB media frame, or a full 16 KiB record.</summary>
    [Params(1024, 16384)]
    public int RecordSize { get; set; }

    /// <summary>Builds both channels over their own replaying streams.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var frame = ServerFrame(RecordSize);
        _ours = WebSocketClientChannel.OverStream(new ReplayStream(frame));
        _framework = new WebSocketRecordChannel(WebSocket.CreateFromStream(new ReplayStream(frame), isServer: false, subProtocol: null, keepAliveInterval: Timeout.InfiniteTimeSpan));
    }

    /// <summary>Our channel: records handed out in place from 64 KiB reads.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = RecordsPerOperation)]
    public async Task<int> Ours() => await ReceiveAsync(_ours);

    /// <summary>The framework's WebSocket behind the generic record channel.</summary>
    [Benchmark(OperationsPerInvoke = RecordsPerOperation)]
    public async Task<int> Framework() => await ReceiveAsync(_framework);

    private static async Task<int> ReceiveAsync(IRecordChannel channel)
    {
        var total = 0;
        for (var i = 0; i < RecordsPerOperation; i++)
            total += (await channel.ReceiveAsync())!.Value.Length;
        return total;
    }

    /// <summary>One final, unmasked binary frame with the minimal length encoding.</summary>
    private static byte[] ServerFrame(int size)
    {
        var header = size < 126 ? 2 : 4;
        var frame = new byte[header + size];
        frame[0] = 0x82;
        if (header == 2)
        {
            frame[1] = (byte)size;
        }
        else
        {
            frame[1] = 126;
            frame[2] = (byte)(size >> 8);
            frame[3] = (byte)size;
        }

        for (var i = header; i < frame.Length; i++)
            frame[i] = (byte)i;
        return frame;
    }

    /// <summary>An endless read-only stream repeating one frame, answering every read at once with as much as asked.</summary>
    private sealed class ReplayStream(byte[] frame) : Stream
    {
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var written = 0;
            while (written < buffer.Length)
            {
                var take = Math.Min(buffer.Length - written, frame.Length - _offset);
                frame.AsSpan(_offset, take).CopyTo(buffer[written..]);
                written += take;
                _offset = (_offset + take) % frame.Length;
            }

            return written;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
