using System.Buffers;
using System.Buffers.Binary;
using System.Collections;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// <see cref="WebSocketServerChannel"/> on the connection's own pipes: over real Kestrel (HTTP and TLS), and over
/// pipes the test holds, to drive what Kestrel's pipes do to it (backpressure, cancelled reads) deterministically.
/// </summary>
public sealed class WebSocketServerChannelPipeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static readonly MoqWebSocketOptions NoKeepAlive = new() { KeepAliveInterval = System.Threading.Timeout.InfiniteTimeSpan };

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>The test's ends of a channel's connection: it writes client frames to one pipe and reads server frames from the other.</summary>
    private sealed class Connection
    {
        public Connection(PipeOptions? output = null, HttpContext? context = null, Func<PipeWriter, PipeWriter>? wrapOutput = null)
        {
            ToServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
            FromServer = new Pipe(output ?? new PipeOptions(useSynchronizationContext: false));
            var writer = wrapOutput?.Invoke(FromServer.Writer) ?? FromServer.Writer;
            Channel = WebSocketServerChannel.OverPipes(context ?? new DefaultHttpContext(), new Duplex(ToServer.Reader, writer), NoKeepAlive);
        }

        public Pipe ToServer { get; }

        public Pipe FromServer { get; }

        public WebSocketServerChannel Channel { get; }

        public async Task SendAsync(byte first, byte[] payload) =>
            await ToServer.Writer.WriteAsync(RawWebSocketClient.Frame(first, payload));

        /// <summary>Reads one whole server frame (unmasked, 7- or 16-bit length).</summary>
        public async Task<(byte First, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var result = await FromServer.Reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (TryTakeFrame(ref buffer, out var frame))
                {
                    FromServer.Reader.AdvanceTo(buffer.Start);
                    return frame;
                }

                Assert.False(result.IsCompleted, "the server's output ended inside a frame");
                FromServer.Reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }

        /// <summary>Bytes the server has flushed and the test has not read yet.</summary>
        public long Unread()
        {
            if (!FromServer.Reader.TryRead(out var result))
            {
                return 0;
            }

            var length = result.Buffer.Length;
            FromServer.Reader.AdvanceTo(result.Buffer.Start);
            return length;
        }

        private static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, out (byte First, byte[] Payload) frame)
        {
            frame = default;
            if (buffer.Length < 2)
            {
                return false;
            }

            Span<byte> head = stackalloc byte[4];
            buffer.Slice(0, Math.Min(4, buffer.Length)).CopyTo(head);
            Assert.Equal(0, head[1] & 0x80); // servers never mask
            var length7 = head[1] & 0x7F;
            Assert.NotEqual(127, length7); // our frames never need the 8-byte length
            var headerSize = length7 == 126 ? 4 : 2;
            if (buffer.Length < headerSize)
            {
                return false;
            }

            var length = length7 == 126 ? BinaryPrimitives.ReadUInt16BigEndian(head[2..]) : length7;
            if (buffer.Length < headerSize + length)
            {
                return false;
            }

            frame = (head[0], buffer.Slice(headerSize, length).ToArray());
            buffer = buffer.Slice(headerSize + length);
            return true;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    [Fact]
    public async Task KestrelHandsTheChannelTheConnectionPipesOverHttp()
    {
        var usesPipes = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackWebSocketServer.StartAsync(context => EchoServerAsync(context, usesPipes));
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("qmux-00");
        await socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), cts.Token);

        Assert.True(await usesPipes.Task.WaitAsync(cts.Token));
        await AssertEchoesAsync(socket, cts.Token);
    }

    [Fact]
    public async Task KestrelHandsTheChannelTheDecryptedPipesOverTls()
    {
        using var certificate = QuicMoqConnectionTests.CreateCertificate();
        var usesPipes = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackWebSocketServer.StartAsync(context => EchoServerAsync(context, usesPipes), certificate);
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("qmux-00");
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), cts.Token);

        // Echoed bytes are only right if the channel reads and writes plaintext, i.e. TLS's pipes, not the socket's.
        Assert.True(await usesPipes.Task.WaitAsync(cts.Token));
        await AssertEchoesAsync(socket, cts.Token);
    }

    [Fact]
    public async Task WithoutTheConnectionPipesTheChannelWorksOverTheUpgradeStream()
    {
        var usesPipes = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // A server that does not expose the connection's pipes (anything but Kestrel), as seen by the request.
        await using var server = await LoopbackWebSocketServer.StartAsync(
            context => EchoServerAsync(new DefaultHttpContext(new WithoutConnectionPipes(context.Features)), usesPipes));
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("qmux-00");
        await socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), cts.Token);

        Assert.False(await usesPipes.Task.WaitAsync(cts.Token));
        await AssertEchoesAsync(socket, cts.Token);
    }

    /// <summary>A request's features with <see cref="IConnectionTransportFeature"/> hidden.</summary>
    private sealed class WithoutConnectionPipes(IFeatureCollection inner) : IFeatureCollection
    {
        public bool IsReadOnly => inner.IsReadOnly;

        public int Revision => inner.Revision;

        public object? this[Type key]
        {
            get => key == typeof(IConnectionTransportFeature) ? null : inner[key];
            set => inner[key] = value;
        }

        public TFeature? Get<TFeature>() => (TFeature?)this[typeof(TFeature)];

        public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

        public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() =>
            inner.Where(pair => pair.Key != typeof(IConnectionTransportFeature)).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static async Task EchoServerAsync(HttpContext context, TaskCompletionSource<bool> usesPipes)
    {
        var accepted = await MoqWebSocketAcceptor.AcceptChannelAsync(context);
        if (accepted is null)
        {
            return;
        }

        await using var channel = Assert.IsType<WebSocketServerChannel>(accepted.Channel);
        usesPipes.TrySetResult(channel.UsesConnectionPipes);
        while (await channel.ReceiveAsync() is { } record)
        {
            // Batched the way the QMux writer does it: several records composed in place, one flush.
            for (var copy = 0; copy < 3; copy++)
            {
                record.Span.CopyTo(channel.GetRecordSpan(record.Length));
                channel.CommitRecord(record.Length);
            }

            await channel.FlushAsync();
        }
    }

    private static async Task AssertEchoesAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        foreach (var size in new[] { 1, 125, 126, 4000, 16 * 1024 })
        {
            var message = Enumerable.Range(0, size).Select(i => (byte)(i * 7 + size)).ToArray();
            await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            for (var copy = 0; copy < 3; copy++)
                Assert.Equal(message, await WebSocketServerChannelTests.ReceiveMessageAsync(socket, cancellationToken));
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task AReadCancelledByTheServerIsNotTheEndOfTheSession()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var connection = new Connection();
        var receive = connection.Channel.ReceiveAsync(cts.Token).AsTask();

        // What Kestrel does to the connection's input at shutdown and on its timeouts: not ours to act on.
        connection.ToServer.Reader.CancelPendingRead();
        await connection.SendAsync(0x82, [1, 2, 3]);

        var record = await receive.WaitAsync(cts.Token);
        Assert.Equal([1, 2, 3], record!.Value.ToArray());
        await connection.Channel.DisposeAsync();
    }

    [Fact]
    public async Task RecordsComposedWhileAControlFlushWaitsGoOutAfterItInOrder()
    {
        using var cts = new CancellationTokenSource(Timeout);
        // A small output limit, so one Pong is enough to make its flush wait with the output held.
        var connection = new Connection(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512, useSynchronizationContext: false));
        var channel = connection.Channel;
        var receive = channel.ReceiveAsync(cts.Token).AsTask();

        var first = Enumerable.Repeat((byte)1, 1000).ToArray();
        await channel.SendAsync(first, cts.Token).AsTask().WaitAsync(cts.Token); // 1004 bytes: under the limit
        var ping = Enumerable.Repeat((byte)2, 100).ToArray();
        await connection.SendAsync(0x89, ping);
        // The Pong's flush crossed the limit and waits for the reader, holding the output.
        await WaitUntilAsync(() => connection.Unread() == 1004 + 102, cts.Token);

        var second = Enumerable.Repeat((byte)3, 10).ToArray();
        second.CopyTo(channel.GetRecordSpan(second.Length));
        channel.CommitRecord(second.Length);
        var flush = channel.FlushAsync(cts.Token).AsTask();
        Assert.False(flush.IsCompleted);

        AssertFrame(0x82, first, await ReadAsync(connection, cts.Token));
        AssertFrame(0x8A, ping, await ReadAsync(connection, cts.Token));
        AssertFrame(0x82, second, await ReadAsync(connection, cts.Token));
        await flush.WaitAsync(cts.Token);
        Assert.False(receive.IsCompleted);
        await channel.DisposeAsync();
    }

    [Fact]
    public async Task AControlFrameLeftToAnEmptyRecordWindowStillGoesOut()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var connection = new Connection();
        var channel = connection.Channel;
        var receive = channel.ReceiveAsync(cts.Token).AsTask();

        // The data writer opens a window (and so holds the output) but then has nothing to put in it.
        channel.GetRecordSpan(100);
        await connection.SendAsync(0x89, [9]);
        await Task.Delay(100, cts.Token); // most likely the Pong is queued while the window is open
        channel.CommitRecord(0);

        AssertFrame(0x8A, new byte[] { 9 }, await ReadAsync(connection, cts.Token));
        // The output is free again for the next batch.
        await channel.SendAsync(new byte[] { 5 }, cts.Token).AsTask().WaitAsync(cts.Token);
        AssertFrame(0x82, new byte[] { 5 }, await ReadAsync(connection, cts.Token));
        Assert.False(receive.IsCompleted);
        await channel.DisposeAsync();
    }

    [Fact]
    public async Task ABatchRefusedBecauseTheChannelCloses_StillSendsItsRecordsThenTheClose()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var connection = new Connection();
        var channel = connection.Channel;

        // A batch holds the output with a record committed when the session starts closing.
        var record = new byte[] { 4, 2 };
        record.CopyTo(channel.GetRecordSpan(record.Length));
        channel.CommitRecord(record.Length);
        var close = channel.CloseAsync(0, "bye").AsTask();
        Assert.Throws<ConnectionClosedException>(() => channel.GetRecordSpan(10));

        // The writer gives up its batch without flushing it: the record and our Close still go out, in that order.
        AssertFrame(0x82, record, await ReadAsync(connection, cts.Token));
        Assert.Equal(0x88, (await ReadAsync(connection, cts.Token)).First);
        await close.WaitAsync(cts.Token);
        await channel.DisposeAsync();
    }

    [Fact]
    public async Task DisposalWaitsForTheReceiveAndLeavesTheConnectionPipesToTheServer()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var connection = new Connection();
        var receive = connection.Channel.ReceiveAsync(cts.Token).AsTask();

        await connection.Channel.DisposeAsync().AsTask().WaitAsync(cts.Token);

        // Nothing reads the input once disposal returned: the pending receive has ended.
        Assert.True(receive.IsCompleted);
        await Assert.ThrowsAsync<ConnectionClosedException>(() => receive);
        var close = await ReadAsync(connection, cts.Token);
        Assert.Equal(0x88, close.First);
        Assert.Equal(1000, BinaryPrimitives.ReadUInt16BigEndian(close.Payload));
        // Neither pipe was completed: Kestrel completes them when the connection ends.
        var written = await connection.ToServer.Writer.WriteAsync(new byte[] { 1 }, cts.Token);
        Assert.False(written.IsCompleted);
        Assert.False(connection.FromServer.Reader.TryRead(out _)); // no bytes after Close, and not completed
    }

    [Fact]
    public async Task RecordsLargerThanABlockOfTheConnectionsPoolAreComposedAsideAndNeverAskTheOutputForMore()
    {
        using var cts = new CancellationTokenSource(Timeout);
        // Kestrel's pool hands out 4 KiB blocks; a pipe asked for more rents outside it (ArrayPool) on every flush.
        var pool = new BlockPool(4096);
        var context = new DefaultHttpContext();
        context.Features.Set<IMemoryPoolFeature>(new PoolFeature(pool));
        RecordingWriter? recording = null;
        var connection = new Connection(new PipeOptions(pool: pool, useSynchronizationContext: false), context,
            writer => recording = new RecordingWriter(writer));
        var channel = connection.Channel;
        Assert.True(channel.MaxRecordSize > pool.MaxBufferSize);

        var records = new[] { channel.MaxRecordSize, 100, channel.MaxRecordSize - 1, 5000 }
            .Select((size, i) => Enumerable.Range(0, size).Select(b => (byte)(b * 7 + i)).ToArray()).ToList();
        foreach (var record in records)
        {
            record.CopyTo(channel.GetRecordSpan(channel.MaxRecordSize));
            channel.CommitRecord(record.Length);
        }

        await channel.FlushAsync(cts.Token).AsTask().WaitAsync(cts.Token);
        foreach (var record in records)
        {
            AssertFrame(0x82, record, await ReadAsync(connection, cts.Token));
        }

        Assert.InRange(recording!.LargestHint, 0, pool.MaxBufferSize);
        await channel.DisposeAsync();
    }

    /// <summary>A memory pool with fixed-size blocks, like Kestrel's.</summary>
    private sealed class BlockPool(int blockSize) : MemoryPool<byte>
    {
        public override int MaxBufferSize => blockSize;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Assert.InRange(minBufferSize, -1, blockSize);
            return new Block(new byte[blockSize]);
        }

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Block(byte[] array) : IMemoryOwner<byte>
        {
            public Memory<byte> Memory => array;

            public void Dispose()
            {
            }
        }
    }

    private sealed class PoolFeature(MemoryPool<byte> pool) : IMemoryPoolFeature
    {
        public MemoryPool<byte> MemoryPool => pool;
    }

    /// <summary>Passes everything to the pipe's writer and remembers the largest memory asked for.</summary>
    private sealed class RecordingWriter(PipeWriter inner) : PipeWriter
    {
        public int LargestHint { get; private set; }

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            LargestHint = Math.Max(LargestHint, sizeHint);
            return inner.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            LargestHint = Math.Max(LargestHint, sizeHint);
            return inner.GetSpan(sizeHint);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
    }

    private static void AssertFrame(byte first, byte[] payload, (byte First, byte[] Payload) frame)
    {
        Assert.Equal(first, frame.First);
        Assert.Equal(payload, frame.Payload);
    }

    private static async Task<(byte First, byte[] Payload)> ReadAsync(Connection connection, CancellationToken cancellationToken) =>
        await connection.ReadFrameAsync(cancellationToken);
}
