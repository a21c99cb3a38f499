using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Transport.TransportTestKit;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>Bad peers close their own connection with a transport error code, and nothing else.</summary>
public class QMuxHostileInputTests
{
    private static async Task AssertClosedWithAsync(RawPeer peer, ulong code, QMuxWireFormat format)
    {
        var info = await peer.Engine.Closed.WaitAsync(Guard);
        Assert.Equal(code, info.Code);
        Assert.False(info.ByPeer);
        Assert.False(string.IsNullOrEmpty(info.Reason));
        // The engine tells the peer why before closing the channel.
        var kind = format == QMuxWireFormat.Legacy ? QMuxFrameKind.ApplicationClose : QMuxFrameKind.ConnectionClose;
        var close = await peer.NextFrameAsync(kind);
        Assert.Equal(code, close.ErrorCode);
        Assert.Null(await peer.NextFrameAsync());
        await peer.CloseAsync();
        await peer.Engine.Completion.WaitAsync(Guard);
    }

    /// <summary>A healthy pair next to the hostile one keeps working.</summary>
    private static async Task AssertOthersUnaffectedAsync()
    {
        var (client, server) = InMemoryConnection.CreatePair(null);
        await using var c = client;
        await using var s = server;
        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        await uni.WriteAsync("ok"u8.ToArray(), fin: true);
        var incoming = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
        Assert.Equal("ok"u8.ToArray(), await ReadToEndAsync(incoming!));
    }

    public static TheoryData<QMuxWireFormat, string, ulong> Garbage => new()
    {
        { QMuxWireFormat.Legacy, "ff 00 01", QMuxTransportError.FrameEncodingError },
        { QMuxWireFormat.Legacy, "08", QMuxTransportError.FrameEncodingError },
        { QMuxWireFormat.Legacy, "", QMuxTransportError.FrameEncodingError },
        { QMuxWireFormat.Qmux00, "40", QMuxTransportError.FrameEncodingError },
        { QMuxWireFormat.Qmux00, "21 00", QMuxTransportError.FrameEncodingError },
        { QMuxWireFormat.Qmux01, "13 05 c0", QMuxTransportError.FrameEncodingError },
        { QMuxWireFormat.Qmux01, "0e 02 00 09 61", QMuxTransportError.FrameEncodingError },
        { QMuxWireFormat.Qmux02, "ff 51 53 30 0d 0a 0d 0a 00", QMuxTransportError.TransportParameterError },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_ClosesWithCode(QMuxWireFormat format, string hex, ulong code)
    {
        await using var peer = await RawPeer.CreateAsync(format);
        await peer.SendAsync(Hex.Bytes(hex));
        await AssertClosedWithAsync(peer, code, format);
        await AssertOthersUnaffectedAsync();
    }

    [Theory]
    [InlineData(QMuxWireFormat.Qmux01, 16383)]
    [InlineData(QMuxWireFormat.Qmux00, 2 * 1024 * 1024 + 1)]
    [InlineData(QMuxWireFormat.Legacy, 2 * 1024 * 1024 + 1)]
    public async Task OversizedRecord_Closes(QMuxWireFormat format, int size)
    {
        await using var peer = await RawPeer.CreateAsync(format);
        await peer.SendAsync(new byte[size]);
        await AssertClosedWithAsync(peer, QMuxTransportError.FrameEncodingError, format);
    }

    [Theory]
    [InlineData(QMuxWireFormat.Qmux00, 3L)] // server-initiated uni: the server only sends on it
    [InlineData(QMuxWireFormat.Legacy, 3L)]
    [InlineData(QMuxWireFormat.Qmux01, 1L)] // server-initiated bidi the server never opened
    public async Task StreamFrame_ForWrongDirection_Closes(QMuxWireFormat format, long id)
    {
        await using var peer = await RawPeer.CreateAsync(format);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, format, id, 0, "x"u8, fin: false));
        await AssertClosedWithAsync(peer, QMuxTransportError.StreamStateError, format);
    }

    [Fact]
    public async Task MaxStreamData_ForPeersUniStream_Closes()
    {
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00);
        await peer.SendAsync(b => QMuxFrameCodec.WriteMaxStreamData(b, 2, 1000));
        await AssertClosedWithAsync(peer, QMuxTransportError.StreamStateError, QMuxWireFormat.Qmux00);
    }

    [Fact]
    public async Task StreamWindowViolation_Closes()
    {
        var options = new QMuxOptions { InitialMaxStreamDataUni = 1000 };
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00, options);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux00, 2, 0, new byte[600], fin: false));
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux00, 2, 600, new byte[600], fin: false));
        await AssertClosedWithAsync(peer, QMuxTransportError.FlowControlError, QMuxWireFormat.Qmux00);
    }

    [Fact]
    public async Task ConnectionWindowViolation_Closes()
    {
        var options = new QMuxOptions { InitialMaxData = 1500, InitialMaxStreamDataUni = 1000 };
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux01, options);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux01, 2, 0, new byte[1000], fin: false));
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux01, 6, 0, new byte[1000], fin: false));
        await AssertClosedWithAsync(peer, QMuxTransportError.FlowControlError, QMuxWireFormat.Qmux01);
    }

    [Fact]
    public async Task ResetFinalSizeBeyondWindow_Closes()
    {
        var options = new QMuxOptions { InitialMaxStreamDataUni = 1000 };
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00, options);
        await peer.SendAsync(b => QMuxFrameCodec.WriteResetStream(b, QMuxWireFormat.Qmux00, 2, 0, 5000));
        await AssertClosedWithAsync(peer, QMuxTransportError.FlowControlError, QMuxWireFormat.Qmux00);
    }

    [Fact]
    public async Task StreamLimitViolation_Closes()
    {
        var options = new QMuxOptions { InitialMaxStreamsUni = 2 };
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00, options);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux00, 2 + 4 * 2, 0, "x"u8, fin: false));
        await AssertClosedWithAsync(peer, QMuxTransportError.StreamLimitError, QMuxWireFormat.Qmux00);
    }

    [Fact]
    public async Task HugeStreamId_OnLegacy_Closes()
    {
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Legacy);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Legacy, (1L << 60) | 2, 0, "x"u8, fin: false));
        await AssertClosedWithAsync(peer, QMuxTransportError.StreamLimitError, QMuxWireFormat.Legacy);
    }

    [Theory]
    [InlineData(QMuxWireFormat.Qmux01)]
    [InlineData(QMuxWireFormat.Legacy)]
    public async Task DataBeyondFinalSize_Closes(QMuxWireFormat format)
    {
        await using var peer = await RawPeer.CreateAsync(format);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, format, 2, 0, "abc"u8, fin: true));
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, format, 2, 3, "d"u8, fin: false));
        await AssertClosedWithAsync(peer, QMuxTransportError.FinalSizeError, format);
    }

    [Fact]
    public async Task ResetBelowReceivedBytes_Closes()
    {
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux00, 2, 0, "abcdef"u8, fin: false));
        await peer.SendAsync(b => QMuxFrameCodec.WriteResetStream(b, QMuxWireFormat.Qmux00, 2, 9, 3));
        await AssertClosedWithAsync(peer, QMuxTransportError.FinalSizeError, QMuxWireFormat.Qmux00);
    }

    [Fact]
    public async Task DuplicateTransportParameters_Closes()
    {
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00);
        await peer.SendAsync(b => QMuxFrameCodec.WriteTransportParameters(b, QMuxTransportParameters.FromOptions(QMuxOptions.Default, QMuxWireFormat.Qmux00)));
        await AssertClosedWithAsync(peer, QMuxTransportError.TransportParameterError, QMuxWireFormat.Qmux00);
    }

    [Fact]
    public async Task PeerClose_Qmux006Form_IsReported()
    {
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00);
        await peer.SendAsync(Hex.Bytes("1d 09 00 03 62 79 65"));
        var info = await peer.Engine.Closed.WaitAsync(Guard);
        Assert.Equal(new ConnectionCloseInfo(9, "bye", ByPeer: true), info);
    }

    [Theory]
    [InlineData(QMuxWireFormat.Qmux00)]
    [InlineData(QMuxWireFormat.Qmux01)]
    public async Task StreamCredit_IsAnnouncedWhenHalfIsUsed_NotPerFinishedStream(QMuxWireFormat format)
    {
        // A peer opening one stream at a time, as a relay sends groups, never runs short of credit, yet hears of it
        // once per half window, not once per finished stream. After every stream a PING fences what the engine sent.
        const int Window = 10, Streams = 100;
        var options = new QMuxOptions { InitialMaxStreamsUni = Window };
        await using var peer = await RawPeer.CreateAsync(format, options);
        long limit = Window;
        var updates = 0;
        for (int i = 0; i < Streams; i++)
        {
            Assert.True(i < limit, $"stream {i} would exceed the announced limit {limit}");
            await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, format, (i << 2) | 2, 0, new[] { (byte)i }, fin: true));
            var incoming = await peer.Engine.AcceptUniAsync().AsTask().WaitAsync(Guard);
            Assert.Equal(new[] { (byte)i }, await ReadToEndAsync(incoming!));
            await peer.SendAsync(b => QMuxFrameCodec.WritePing(b, response: false, (ulong)i));
            while (await peer.NextFrameAsync() is { } frame && !(frame.Kind == QMuxFrameKind.PingResponse && frame.Sequence == (ulong)i))
            {
                if (frame.Kind != QMuxFrameKind.MaxStreamsUni)
                    continue;
                updates++;
                Assert.True(frame.Maximum > limit);
                limit = frame.Maximum;
            }
        }
        // Announced when fewer than half the window was left: one update per 5 streams here (per stream: 100).
        Assert.InRange(updates, Streams / Window, Streams / (Window / 2) + 1);
        Assert.False(peer.Engine.Closed.IsCompleted);
    }

    [Fact]
    public async Task ResetAccountsGapAgainstConnectionWindow_AndReplenishes()
    {
        // A reset whose final size exceeds the bytes received charges the gap; the credit comes back.
        // One stream of credit, so the finished stream's credit is announced at once (a larger window waits for half).
        var options = new QMuxOptions { InitialMaxData = 4000, InitialMaxStreamDataUni = 3000, InitialMaxStreamsUni = 1 };
        await using var peer = await RawPeer.CreateAsync(QMuxWireFormat.Qmux00, options);
        await peer.SendAsync(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux00, 2, 0, new byte[100], fin: false));
        await peer.SendAsync(b => QMuxFrameCodec.WriteResetStream(b, QMuxWireFormat.Qmux00, 2, 4, 2500));
        var maxData = await peer.NextFrameAsync(QMuxFrameKind.MaxData);
        Assert.Equal(2500 + 4000, maxData.Maximum);
        var maxStreams = await peer.NextFrameAsync(QMuxFrameKind.MaxStreamsUni);
        Assert.Equal(2, maxStreams.Maximum);
        var incoming = await peer.Engine.AcceptUniAsync().AsTask().WaitAsync(Guard);
        var error = await Assert.ThrowsAsync<StreamAbortedException>(() => incoming!.ReadAsync(new byte[10]).AsTask());
        Assert.Equal(4UL, error.Code);
        Assert.False(peer.Engine.Closed.IsCompleted);
    }

    [Fact]
    public async Task TextMessageOrChannelFailure_ClosesWithChannelCode()
    {
        var (a, b) = InMemoryRecordChannel.CreatePair();
        await using var engine = new QMuxConnection(new FailingChannel(b), QMuxWireFormat.Qmux00, true, null, "test");
        engine.Start();
        var info = await engine.Closed.WaitAsync(Guard);
        Assert.Equal(1003UL, info.Code);
        await a.DisposeAsync();
    }

    private sealed class FailingChannel(IRecordChannel inner) : IRecordChannel
    {
        public int MaxRecordSize => inner.MaxRecordSize;
        public ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken = default) => inner.SendAsync(record, cancellationToken);
        public ValueTask<ReadOnlyMemory<byte>?> ReceiveAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromException<ReadOnlyMemory<byte>?>(new ConnectionClosedException(1003, "text message"));
        public ValueTask CloseAsync(ulong code, string reason) => inner.CloseAsync(code, reason);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
