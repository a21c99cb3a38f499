using System.Collections.Concurrent;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>Records every record that passes through, for asserting on the wire.</summary>
internal sealed class TapChannel(IRecordChannel inner) : IRecordChannel
{
    public ConcurrentQueue<byte[]> Sent { get; } = new();

    public int MaxRecordSize => inner.MaxRecordSize;

    public ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default)
    {
        Sent.Enqueue(record.ToArray());
        return inner.SendAsync(record, cancellationToken);
    }

    public ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default) => inner.ReceiveAsync(cancellationToken);

    public ValueTask CloseAsync(ulong code, string reason) => inner.CloseAsync(code, reason);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

internal static class TransportTestKit
{
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    public static (QMuxConnection Client, QMuxConnection Server, TapChannel ClientTap, TapChannel ServerTap) Pair(
        QMuxWireFormat format, QMuxOptions? clientOptions = null, QMuxOptions? serverOptions = null, int maxRecordSize = 16384)
    {
        var (a, b) = InMemoryRecordChannel.CreatePair(maxRecordSize);
        var clientTap = new TapChannel(a);
        var serverTap = new TapChannel(b);
        var client = new QMuxConnection(clientTap, format, isServer: false, "moq-lite-05", "test", clientOptions);
        var server = new QMuxConnection(serverTap, format, isServer: true, "moq-lite-05", "test", serverOptions);
        client.Start();
        server.Start();
        return (client, server, clientTap, serverTap);
    }

    /// <summary>Decodes every frame of every record (one frame per record on legacy/qmux-00).</summary>
    public static List<QMuxFrame> Frames(IEnumerable<byte[]> records, QMuxWireFormat format)
    {
        var frames = new List<QMuxFrame>();
        foreach (var record in records)
        {
            int offset = 0;
            while (offset < record.Length)
            {
                offset += QMuxFrameCodec.Decode(record, offset, format, out var frame);
                frames.Add(frame);
                if (format is QMuxWireFormat.Legacy or QMuxWireFormat.Qmux00)
                    break;
            }
        }
        return frames;
    }

    public static async Task<byte[]> ReadToEndAsync(IRecvStream stream, int bufferSize = 4096)
    {
        var result = new MemoryStream();
        var buffer = new byte[bufferSize];
        while (true)
        {
            int n = await stream.ReadAsync(buffer).AsTask().WaitAsync(Guard);
            if (n == 0)
                return result.ToArray();
            result.Write(buffer, 0, n);
        }
    }

    public static byte[] RandomBytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Waits (hang-guarded) until <paramref name="condition"/> holds.</summary>
    /// <summary>Parks on <paramref name="signal"/> like a writer loop, then runs <paramref name="after"/> wherever it resumed.</summary>
    public static async Task WaitThenRecordAsync(WriterSignal signal, Action after)
    {
        await signal.WaitAsync().ConfigureAwait(false);
        after();
    }

    public static async Task EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Guard;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition not reached");
            await Task.Delay(5);
        }
    }
}

/// <summary>A hand-driven peer: the test writes raw records and reads what the engine sends.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly InMemoryRecordChannel _channel;
    private readonly QMuxWireFormat _format;
    private readonly Queue<QMuxFrame> _pending = new();

    private RawPeer(InMemoryRecordChannel channel, QMuxConnection engine, QMuxWireFormat format)
    {
        _channel = channel;
        Engine = engine;
        _format = format;
    }

    public QMuxConnection Engine { get; }

    /// <summary>An engine (server by default) facing a raw client; for QMux the raw side sends generous parameters first.</summary>
    public static async Task<RawPeer> CreateAsync(QMuxWireFormat format, QMuxOptions? engineOptions = null, bool engineIsServer = true, bool sendParameters = true, QMuxTransportParameters? parameters = null)
    {
        var (raw, engineSide) = InMemoryRecordChannel.CreatePair(maxRecordSize: 4 << 20);
        var engine = new QMuxConnection(engineSide, format, engineIsServer, "moq-lite-05", "raw-test", engineOptions);
        engine.Start();
        var peer = new RawPeer(raw, engine, format);
        if (format != QMuxWireFormat.Legacy && sendParameters)
        {
            var p = parameters ?? QMuxTransportParameters.FromOptions(QMuxOptions.Default, format);
            await peer.SendAsync(b => QMuxFrameCodec.WriteTransportParameters(b, p));
        }
        return peer;
    }

    public ValueTask SendAsync(byte[] record) => _channel.SendAsync(record);

    /// <summary>Ends the raw side's sending direction, as a peer answering a close would.</summary>
    public ValueTask CloseAsync() => _channel.CloseAsync(0, "");

    public ValueTask SendAsync(Func<byte[], int> write)
    {
        var buffer = new byte[64 * 1024];
        int n = write(buffer);
        return _channel.SendAsync(buffer.AsMemory(0, n));
    }

    /// <summary>Next frame the engine sent, or null when it closed the channel.</summary>
    public async Task<QMuxFrame?> NextFrameAsync()
    {
        while (_pending.Count == 0)
        {
            var record = await _channel.ReceiveAsync().AsTask().WaitAsync(TransportTestKit.Guard);
            if (record is not { } bytes)
                return null;
            // Copy: the frame's data must outlive the channel's buffer.
            foreach (var frame in TransportTestKit.Frames([bytes.ToArray()], _format))
                _pending.Enqueue(frame);
        }
        return _pending.Dequeue();
    }

    public async Task<QMuxFrame> NextFrameAsync(QMuxFrameKind kind)
    {
        while (true)
        {
            var frame = await NextFrameAsync() ?? throw new InvalidOperationException($"channel closed before a {kind} frame");
            if (frame.Kind == kind)
                return frame;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await Engine.DisposeAsync();
    }
}
