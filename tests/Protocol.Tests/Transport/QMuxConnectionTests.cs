using System.Text;
using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Transport.TransportTestKit;

namespace MoqCluster.Protocol.Tests.Transport;

public class QMuxConnectionTests
{
    public static TheoryData<QMuxWireFormat> AllFormats =>
        [QMuxWireFormat.Legacy, QMuxWireFormat.Qmux00, QMuxWireFormat.Qmux01, QMuxWireFormat.Qmux02];

    public static TheoryData<QMuxWireFormat> FlowControlledFormats =>
        [QMuxWireFormat.Qmux00, QMuxWireFormat.Qmux01, QMuxWireFormat.Qmux02];

    [Theory]
    [MemberData(nameof(AllFormats))]
    public async Task BidiAndUni_BothDirections(QMuxWireFormat format)
    {
        var (client, server, _, _) = Pair(format);
        await using var c = client;
        await using var s = server;

        var clientBidi = await client.OpenBidiAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(0, clientBidi.Id);
        await clientBidi.Send.WriteAsync("hello"u8.ToArray(), fin: true);
        var accepted = await server.AcceptBidiAsync().AsTask().WaitAsync(Guard);
        Assert.NotNull(accepted);
        Assert.Equal(0, accepted.Id);
        Assert.Equal("hello", Encoding.UTF8.GetString(await ReadToEndAsync(accepted.Recv)));
        await accepted.Send.WriteAsync("world"u8.ToArray(), fin: true);
        Assert.Equal("world", Encoding.UTF8.GetString(await ReadToEndAsync(clientBidi.Recv)));

        var serverBidi = await server.OpenBidiAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(1, serverBidi.Id);
        await serverBidi.Send.WriteAsync("ping"u8.ToArray());
        var clientAccepted = await client.AcceptBidiAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(1, clientAccepted!.Id);
        var buffer = new byte[16];
        int n = await clientAccepted.Recv.ReadAsync(buffer).AsTask().WaitAsync(Guard);
        Assert.Equal("ping", Encoding.UTF8.GetString(buffer, 0, n));
        await clientAccepted.Send.WriteAsync("pong"u8.ToArray(), fin: true);
        await serverBidi.Send.WriteAsync(default, fin: true);
        Assert.Equal("pong", Encoding.UTF8.GetString(await ReadToEndAsync(serverBidi.Recv)));
        Assert.Empty(await ReadToEndAsync(clientAccepted.Recv));

        var clientUni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(2, clientUni.Id);
        await clientUni.WriteAsync("up"u8.ToArray(), fin: true);
        var serverUniIn = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
        Assert.Equal("up", Encoding.UTF8.GetString(await ReadToEndAsync(serverUniIn!)));

        var serverUni = await server.OpenUniAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(3, serverUni.Id);
        await serverUni.WriteAsync("down"u8.ToArray(), fin: true);
        var clientUniIn = await client.AcceptUniAsync().AsTask().WaitAsync(Guard);
        Assert.Equal("down", Encoding.UTF8.GetString(await ReadToEndAsync(clientUniIn!)));
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public async Task LargeWrite_ArrivesIntact_RecordsWithinLimits(QMuxWireFormat format)
    {
        var (client, server, clientTap, _) = Pair(format);
        await using var c = client;
        await using var s = server;
        var data = RandomBytes(1024 * 1024);

        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        var write = uni.WriteAsync(data, fin: true).AsTask();
        var incoming = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
        var received = await ReadToEndAsync(incoming!, 10_000);
        await write.WaitAsync(Guard);
        Assert.Equal(data, received);

        int recordLimit = format is QMuxWireFormat.Qmux01 or QMuxWireFormat.Qmux02 ? 16382 : 16384;
        Assert.All(clientTap.Sent, r => Assert.InRange(r.Length, 1, recordLimit));
        var streamFrames = Frames(clientTap.Sent, format).Where(f => f.Kind == QMuxFrameKind.Stream).ToList();
        Assert.Equal(data.Length, streamFrames.Sum(f => f.Data.Length));
        if (format == QMuxWireFormat.Legacy)
            Assert.All(streamFrames, f => Assert.True(f.Data.Length <= 16000));
        else
            Assert.Equal(data.Length, streamFrames.Last().Offset + streamFrames.Last().Data.Length);
    }

    [Theory]
    [MemberData(nameof(FlowControlledFormats))]
    public async Task FirstRecord_IsTransportParameters_MatchingSpecRelayExample(QMuxWireFormat format)
    {
        var options = new QMuxOptions { AdvertiseMaxRecordSize = true };
        var (client, server, _, serverTap) = Pair(format, serverOptions: options);
        await using var c = client;
        await using var s = server;
        await EventuallyAsync(() => !serverTap.Sent.IsEmpty);
        var first = serverTap.Sent.First();
        const string relay = "ff 51 53 30 0d 0a 0d 0a 2b 04 04 81 00 00 00 05 04 80 10 00 00 06 04 80 10 00 00 07 04 80 10 00 00 08 02 43 e8 09 02 43 e8 c5 71 c5 94 29 cd 08 45 02 7f fe";
        var expected = Hex.Bytes(relay);
        Assert.Equal(expected, first.Take(expected.Length).ToArray());
        if (format == QMuxWireFormat.Qmux00)
            Assert.Equal(expected.Length, first.Length);
    }

    [Fact]
    public async Task Legacy_SendsNoTransportParameters()
    {
        var (client, server, clientTap, _) = Pair(QMuxWireFormat.Legacy);
        await using var c = client;
        await using var s = server;
        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        await uni.WriteAsync("x"u8.ToArray(), fin: true);
        var incoming = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
        await ReadToEndAsync(incoming!);
        Assert.Equal(Hex.Bytes("09 02 78"), clientTap.Sent.First());
    }

    [Theory]
    [MemberData(nameof(FlowControlledFormats))]
    public async Task FlowControl_BlockedWriterResumes_AsReaderConsumes(QMuxWireFormat format)
    {
        var serverOptions = new QMuxOptions { InitialMaxData = 64 * 1024, InitialMaxStreamDataUni = 16 * 1024, InitialMaxStreamDataBidiRemote = 16 * 1024 };
        var clientOptions = new QMuxOptions { SendBufferSize = 1024 };
        var (client, server, _, serverTap) = Pair(format, clientOptions, serverOptions);
        await using var c = client;
        await using var s = server;
        var data = RandomBytes(512 * 1024, seed: 7);

        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        var writer = Task.Run(async () =>
        {
            for (int i = 0; i < data.Length; i += 1000)
                await uni.WriteAsync(data.AsMemory(i, Math.Min(1000, data.Length - i)));
            await uni.WriteAsync(default, fin: true);
        });
        var incoming = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);

        // The writer cannot finish while nobody reads: 512 KiB against a 16 KiB window.
        await EventuallyAsync(() => Frames(serverTap.Sent, format).Count > 0);
        Assert.False(writer.IsCompleted);

        var received = await ReadToEndAsync(incoming!, 3000);
        await writer.WaitAsync(Guard);
        Assert.Equal(data, received);

        var sent = Frames(serverTap.Sent, format);
        Assert.Contains(sent, f => f.Kind == QMuxFrameKind.MaxStreamData && f.StreamId == uni.Id);
        Assert.Contains(sent, f => f.Kind == QMuxFrameKind.MaxData);
        Assert.False(server.Closed.IsCompleted);
        Assert.False(client.Closed.IsCompleted);
    }

    [Theory]
    [MemberData(nameof(FlowControlledFormats))]
    public async Task StreamLimits_ReplenishedByMaxStreams(QMuxWireFormat format)
    {
        var serverOptions = new QMuxOptions { InitialMaxStreamsUni = 3, InitialMaxStreamsBidi = 2 };
        var (client, server, _, serverTap) = Pair(format, serverOptions: serverOptions);
        await using var c = client;
        await using var s = server;

        var serverSide = Task.Run(async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                var uni = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
                Assert.Equal(new byte[] { (byte)i }, await ReadToEndAsync(uni!));
            }
            for (int i = 0; i < 10; i++)
            {
                var bidi = await server.AcceptBidiAsync().AsTask().WaitAsync(Guard);
                var request = await ReadToEndAsync(bidi!.Recv);
                await bidi.Send.WriteAsync(request, fin: true);
            }
        });

        for (int i = 0; i < 20; i++)
        {
            var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
            Assert.Equal(4 * i + 2, uni.Id);
            await uni.WriteAsync(new[] { (byte)i }, fin: true);
        }
        for (int i = 0; i < 10; i++)
        {
            var bidi = await client.OpenBidiAsync().AsTask().WaitAsync(Guard);
            await bidi.Send.WriteAsync(new[] { (byte)i }, fin: true);
            Assert.Equal(new[] { (byte)i }, await ReadToEndAsync(bidi.Recv));
        }
        await serverSide.WaitAsync(Guard);

        var sent = Frames(serverTap.Sent, format);
        Assert.Contains(sent, f => f.Kind == QMuxFrameKind.MaxStreamsUni && f.Maximum >= 20);
        Assert.Contains(sent, f => f.Kind == QMuxFrameKind.MaxStreamsBidi && f.Maximum >= 10);
    }

    [Theory]
    [InlineData(100, false)]
    [InlineData(40_000, true)]
    public async Task BatchingChannel_IsAskedForAWindowTheQueuedBytesNeed_NotTheRecordLimit(int size, bool fillsRecords)
    {
        // A WebSocket channel copies a window larger than a block of its pool: a small frame must not ask for 16 KiB.
        var (a, b) = InMemoryRecordChannel.CreatePair(16384);
        var windows = new WindowRecordingChannel(a);
        await using var client = new QMuxConnection(windows, QMuxWireFormat.Qmux01, isServer: false, "moq-lite-05", "test");
        await using var server = new QMuxConnection(b, QMuxWireFormat.Qmux01, isServer: true, "moq-lite-05", "test");
        client.Start();
        server.Start();
        // The transport parameters go first, in a window of their own.
        await EventuallyAsync(() => !windows.Requested.IsEmpty);

        var payload = RandomBytes(size, seed: size);
        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        await uni.WriteAsync(payload, fin: true);
        var incoming = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(payload, await ReadToEndAsync(incoming!));

        var dataWindows = windows.Requested.Skip(1).ToList();
        Assert.NotEmpty(dataWindows);
        if (fillsRecords)
            Assert.Contains(16382, dataWindows); // the peer's max_record_size: more is queued than one record holds
        else
            Assert.All(dataWindows, w => Assert.InRange(w, size, size + 64));
    }

    /// <summary>A batching channel over an in-memory one that records the window asked for each record.</summary>
    private sealed class WindowRecordingChannel(IRecordChannel inner) : IRecordChannel, IRecordBatchWriter
    {
        private readonly byte[] _window = new byte[inner.MaxRecordSize];
        private readonly List<byte[]> _batch = [];

        public System.Collections.Concurrent.ConcurrentQueue<int> Requested { get; } = new();

        public int MaxRecordSize => inner.MaxRecordSize;

        public int PendingBytes => _batch.Sum(r => r.Length);

        public Span<byte> GetRecordSpan(int maxLength)
        {
            Requested.Enqueue(maxLength);
            return _window.AsSpan(0, maxLength);
        }

        public void CommitRecord(int length)
        {
            if (length > 0)
                _batch.Add(_window.AsSpan(0, length).ToArray());
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            foreach (var record in _batch)
                await inner.SendAsync(record, cancellationToken);
            _batch.Clear();
        }

        public ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) => inner.SendAsync(record, cancellationToken);

        public ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default) => inner.ReceiveAsync(cancellationToken);

        public ValueTask CloseAsync(ulong code, string reason) => inner.CloseAsync(code, reason);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public async Task StopSending_AnsweredWithReset_SameCode_FinalSizeIsBytesSent(QMuxWireFormat format)
    {
        var (client, server, clientTap, _) = Pair(format);
        await using var c = client;
        await using var s = server;
        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        await uni.WriteAsync(RandomBytes(100));
        var incoming = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
        var buffer = new byte[100];
        int got = 0;
        while (got < 100)
            got += await incoming!.ReadAsync(buffer.AsMemory(got)).AsTask().WaitAsync(Guard);

        incoming!.StopSending(7);
        Assert.Equal(7UL, await uni.Stopped.WaitAsync(Guard));
        var error = await Assert.ThrowsAsync<StreamAbortedException>(() => uni.WriteAsync(new byte[1]).AsTask());
        Assert.Equal(7UL, error.Code);
        var readError = await Assert.ThrowsAsync<StreamAbortedException>(() => incoming.ReadAsync(buffer).AsTask());
        Assert.Equal(7UL, readError.Code);

        await EventuallyAsync(() => Frames(clientTap.Sent, format).Any(f => f.Kind == QMuxFrameKind.ResetStream));
        var reset = Frames(clientTap.Sent, format).Single(f => f.Kind == QMuxFrameKind.ResetStream);
        Assert.Equal((uni.Id, 7UL), (reset.StreamId, reset.ErrorCode));
        if (format != QMuxWireFormat.Legacy)
            Assert.Equal(100, reset.FinalSize);
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public async Task Reset_ReaderSeesCode(QMuxWireFormat format)
    {
        var (client, server, _, _) = Pair(format);
        await using var c = client;
        await using var s = server;
        var bidi = await client.OpenBidiAsync().AsTask().WaitAsync(Guard);
        await bidi.Send.WriteAsync(RandomBytes(10));
        var incoming = await server.AcceptBidiAsync().AsTask().WaitAsync(Guard);
        bidi.Send.Reset(42);
        var error = await Assert.ThrowsAsync<StreamAbortedException>(async () =>
        {
            var buffer = new byte[64];
            while (await incoming!.Recv.ReadAsync(buffer).AsTask().WaitAsync(Guard) > 0) { }
        });
        Assert.Equal(42UL, error.Code);

        // The other half is unaffected.
        await incoming!.Send.WriteAsync("still here"u8.ToArray(), fin: true);
        Assert.Equal("still here", Encoding.UTF8.GetString(await ReadToEndAsync(bidi.Recv)));
    }

    [Fact]
    public async Task SendOrder_HigherFirst()
    {
        // The raw peer grants streams but no connection credit, so both streams queue up.
        var parameters = QMuxTransportParameters.FromOptions(QMuxOptions.Default, QMuxWireFormat.Qmux00) with { InitialMaxData = 0 };
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00, parameters: parameters);
        var low = await peer.Engine.OpenUniAsync().AsTask().WaitAsync(Guard);
        var high = await peer.Engine.OpenUniAsync().AsTask().WaitAsync(Guard);
        high.SendOrder = 5;
        await low.WriteAsync(RandomBytes(100));
        await high.WriteAsync(RandomBytes(100));
        await peer.SendAsync(b => QMuxFrameCodec.WriteMaxData(b, 1000));
        var first = await peer.NextFrameAsync(QMuxFrameKind.Stream);
        var second = await peer.NextFrameAsync(QMuxFrameKind.Stream);
        Assert.Equal((high.Id, low.Id), (first.StreamId, second.StreamId));
    }

    [Theory]
    [InlineData(QMuxWireFormat.Qmux01)]
    [InlineData(QMuxWireFormat.Qmux02)]
    [InlineData(QMuxWireFormat.Qmux00)]
    public async Task QxPing_IsAnswered(QMuxWireFormat format)
    {
        await using var peer = await RawPeer.CreateAsync(format);
        Assert.Equal(QMuxFrameKind.TransportParameters, (await peer.NextFrameAsync())!.Value.Kind);
        await peer.SendAsync(Hex.Bytes("f4 8c 67 52 9e f8 c7 bd 05"));
        var pong = await peer.NextFrameAsync(QMuxFrameKind.PingResponse);
        Assert.Equal(5UL, pong.Sequence);
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public async Task Close_PropagatesAndFailsPendingOperations(QMuxWireFormat format)
    {
        var (client, server, _, _) = Pair(format);
        await using var c = client;
        await using var s = server;
        var bidi = await client.OpenBidiAsync().AsTask().WaitAsync(Guard);
        await bidi.Send.WriteAsync("x"u8.ToArray());
        var incoming = await server.AcceptBidiAsync().AsTask().WaitAsync(Guard);
        var buffer = new byte[8];
        Assert.Equal(1, await incoming!.Recv.ReadAsync(buffer).AsTask().WaitAsync(Guard));
        var pendingRead = incoming.Recv.ReadAsync(buffer).AsTask();
        var pendingAccept = server.AcceptUniAsync().AsTask();

        client.Close(17, "bye");

        var serverInfo = await server.Closed.WaitAsync(Guard);
        Assert.Equal(new ConnectionCloseInfo(17, "bye", ByPeer: true), serverInfo);
        Assert.Equal(new ConnectionCloseInfo(17, "bye", ByPeer: false), await client.Closed.WaitAsync(Guard));
        var readError = await Assert.ThrowsAsync<ConnectionClosedException>(() => pendingRead.WaitAsync(Guard));
        Assert.Equal(17UL, readError.Code);
        Assert.Null(await pendingAccept.WaitAsync(Guard));
        await Assert.ThrowsAsync<ConnectionClosedException>(() => client.OpenUniAsync().AsTask());
        await Assert.ThrowsAsync<ConnectionClosedException>(() => bidi.Send.WriteAsync(new byte[1]).AsTask());
        await client.Completion.WaitAsync(Guard);
    }

    [Fact]
    public async Task Close_Legacy_UsesApplicationCloseFrame()
    {
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Legacy);
        peer.Engine.Close(3, "bye");
        var close = await peer.NextFrameAsync(QMuxFrameKind.ApplicationClose);
        Assert.Equal((3UL, "bye"), (close.ErrorCode, close.Reason));
        Assert.Null(await peer.NextFrameAsync());
    }

    [Fact]
    public async Task ChannelEnd_ClosesConnection()
    {
        var (a, b) = InMemoryRecordChannel.CreatePair();
        await using var engine = new QMuxConnection(b, QMuxWireFormat.Qmux00, true, null, "test");
        engine.Start();
        await a.CloseAsync(0, "");
        var info = await engine.Closed.WaitAsync(Guard);
        Assert.True(info.ByPeer);
        Assert.Equal(0UL, info.Code);
    }

    [Fact]
    public async Task OpenWaitsForPeerParameters_ThenSucceeds()
    {
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux01, sendParameters: false);
        var open = peer.Engine.OpenUniAsync().AsTask();
        Assert.False(open.IsCompleted);
        await peer.SendAsync(b => QMuxFrameCodec.WriteTransportParameters(b, QMuxTransportParameters.FromOptions(QMuxOptions.Default, QMuxWireFormat.Qmux01)));
        var uni = await open.WaitAsync(Guard);
        Assert.Equal(3, uni.Id);
    }

    [Fact]
    public async Task InMemoryConnection_CreatePair_Works()
    {
        var (client, server) = InMemoryConnection.CreatePair("moq-lite-05", isUrlLess: true);
        await using var c = client;
        await using var s = server;
        Assert.Equal("moq-lite-05", client.ApplicationProtocol);
        Assert.True(server.IsUrlLess);
        var bidi = await client.OpenBidiAsync().AsTask().WaitAsync(Guard);
        await bidi.Send.WriteAsync("hi"u8.ToArray(), fin: true);
        var incoming = await server.AcceptBidiAsync().AsTask().WaitAsync(Guard);
        Assert.Equal("hi", Encoding.UTF8.GetString(await ReadToEndAsync(incoming!.Recv)));
    }

    [Fact]
    public async Task ManyConcurrentStreams_AllIntact()
    {
        var (client, server, _, _) = Pair(QMuxWireFormat.Qmux01, serverOptions: new QMuxOptions { InitialMaxStreamsUni = 8, InitialMaxData = 256 * 1024, InitialMaxStreamDataUni = 32 * 1024 });
        await using var c = client;
        await using var s = server;
        const int count = 40;
        var readers = Task.Run(async () =>
        {
            var tasks = new List<Task<(long, byte[])>>();
            for (int i = 0; i < count; i++)
            {
                var uni = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
                tasks.Add(Task.Run(async () => (uni!.Id, await ReadToEndAsync(uni))));
            }
            return await Task.WhenAll(tasks);
        });
        var writers = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
            uni.SendOrder = i % 3;
            var data = RandomBytes(50_000, seed: (int)uni.Id);
            await uni.WriteAsync(data, fin: true);
        })).ToArray();
        await Task.WhenAll(writers).WaitAsync(Guard);
        var results = await readers.WaitAsync(Guard);
        Assert.All(results, r => Assert.Equal(RandomBytes(50_000, seed: (int)r.Item1), r.Item2));
    }
}

public class QMuxParkedReadTests
{
    /// <summary>A uni stream whose first byte the server side has already read, so the next read parks.</summary>
    private static async Task<(ISendStream Send, IRecvStream Recv)> OpenDrainedStreamAsync(QMuxConnection client, QMuxConnection server)
    {
        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        await uni.WriteAsync("a"u8.ToArray());
        var recv = (await server.AcceptUniAsync().AsTask().WaitAsync(Guard))!;
        Assert.Equal(1, await recv.ReadAsync(new byte[8]).AsTask().WaitAsync(Guard));
        return (uni, recv);
    }

    [Fact]
    public async Task A_cancelled_read_can_be_followed_by_another_that_gets_the_data()
    {
        var (client, server, _, _) = Pair(QMuxWireFormat.Qmux01);
        await using var c = client;
        await using var s = server;
        var (uni, recv) = await OpenDrainedStreamAsync(client, server);
        var buffer = new byte[8];

        for (var i = 0; i < 3; i++)
        {
            using var cts = new CancellationTokenSource();
            var parked = recv.ReadAsync(buffer, cts.Token).AsTask();
            await Task.Delay(20);
            Assert.False(parked.IsCompleted);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => parked.WaitAsync(Guard));
        }

        var next = recv.ReadAsync(buffer).AsTask();
        await uni.WriteAsync("bc"u8.ToArray(), fin: true);
        Assert.Equal(2, await next.WaitAsync(Guard));
        Assert.Equal(0, await recv.ReadAsync(buffer).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task A_parked_read_fails_when_the_connection_closes()
    {
        var (client, server, _, _) = Pair(QMuxWireFormat.Qmux01);
        await using var c = client;
        await using var s = server;
        var (uni, recv) = await OpenDrainedStreamAsync(client, server);
        var buffer = new byte[8];
        var parked = recv.ReadAsync(buffer).AsTask();
        await Task.Delay(20);
        server.Close(0, "bye");
        await Assert.ThrowsAsync<ConnectionClosedException>(() => parked.WaitAsync(Guard));
    }
}
