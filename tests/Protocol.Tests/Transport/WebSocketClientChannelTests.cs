using System.Net.WebSockets;
using System.Text;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// The client channel against a scripted raw server: the handshake's checks, the frames it sends (masked, fresh keys,
/// minimal lengths, batched), and every way a hostile server's frames are refused. Interop with a real server is
/// covered by <see cref="WebSocketRecordChannelTests"/> and the QMux-level WebSocket tests, which connect through it.
/// </summary>
public sealed class WebSocketClientChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Connects while the raw server accepts and answers with <paramref name="answer"/> (a valid 101 by default).</summary>
    private static async Task<WebSocketClientChannel> ConnectAsync(
        RawWebSocketServer server, CancellationToken ct, MoqWebSocketClientOptions? options = null,
        Func<RawWebSocketServer, List<string>>? answer = null, byte[]? trailing = null)
    {
        var connecting = WebSocketClientChannel.ConnectAsync(server.Url("/anon/room?jwt=a.b-c"), options ?? MoqWebSocketClientOptions.Default, ct);
        await server.AcceptAsync(ct);
        await server.AnswerAsync(answer?.Invoke(server) ?? server.Accepting(), trailing, ct);
        return await connecting;
    }

    [Fact]
    public async Task RequestIsAValidUpgradeWithTheOfferAndThePathVerbatim()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { Headers = new Dictionary<string, string> { ["Origin"] = "https://example.test" } };
        await using var channel = await ConnectAsync(server, cts.Token, options);

        Assert.StartsWith("GET /anon/room?jwt=a.b-c HTTP/1.1\r\n", server.Request);
        Assert.Equal(server.Url().Authority, server.RequestHeader("Host"));
        Assert.Equal("websocket", server.RequestHeader("Upgrade"));
        Assert.Equal("Upgrade", server.RequestHeader("Connection"));
        Assert.Equal("13", server.RequestHeader("Sec-WebSocket-Version"));
        Assert.Equal(16, Convert.FromBase64String(server.RequestHeader("Sec-WebSocket-Key")!).Length);
        Assert.Equal(string.Join(", ", MoqWebSocketClientOptions.DefaultSubprotocols), server.RequestHeader("Sec-WebSocket-Protocol"));
        Assert.Equal("https://example.test", server.RequestHeader("Origin"));
        Assert.Equal("qmux-00.moq-lite-05", channel.SubProtocol);
    }

    [Theory]
    [InlineData("X-Evil\r\nInjected", "1")]
    [InlineData("X-Value", "a\r\nInjected: 1")]
    [InlineData("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]
    [InlineData("host", "elsewhere")]
    public async Task MalformedOrReservedRequestHeadersAreRefusedBeforeConnecting(string name, string value)
    {
        await using var server = RawWebSocketServer.Start();
        var options = new MoqWebSocketClientOptions { Headers = new Dictionary<string, string> { [name] = value } };
        await Assert.ThrowsAsync<ArgumentException>(() => WebSocketClientChannel.ConnectAsync(server.Url(), options));
    }

    public static TheoryData<string, int?> BadAnswers => new()
    {
        { "status 403", 403 },
        { "wrong accept", null },
        { "no upgrade header", null },
        { "subprotocol not offered", null },
        { "extension not offered", null },
        { "garbage status line", null },
    };

    [Theory]
    [MemberData(nameof(BadAnswers))]
    public async Task InvalidAnswersFailTheConnectWithTheStatusWhenThereIsOne(string kind, int? status)
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<WebSocketConnectException>(() => ConnectAsync(server, cts.Token, answer: s => kind switch
        {
            "status 403" => ["HTTP/1.1 403 Forbidden", "Content-Length: 0"],
            "wrong accept" => [.. s.Accepting().Where(l => !l.StartsWith("Sec-WebSocket-Accept")), "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA="],
            "no upgrade header" => [.. s.Accepting().Where(l => !l.StartsWith("Upgrade"))],
            "subprotocol not offered" => s.Accepting("qmux-01.moqt-20"),
            "extension not offered" => [.. s.Accepting(), "Sec-WebSocket-Extensions: permessage-deflate"],
            _ => ["SSH-2.0-OpenSSH_9.2"],
        }));
        Assert.Equal(status, error.StatusCode);
    }

    [Fact]
    public async Task EndlessResponseHeadIsCutOffAtItsBound()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var connecting = WebSocketClientChannel.ConnectAsync(server.Url(), MoqWebSocketClientOptions.Default, cts.Token);
        await server.AcceptAsync(cts.Token);
        var error = await Assert.ThrowsAsync<WebSocketConnectException>(async () =>
        {
            var filler = Encoding.ASCII.GetBytes("X-Filler: " + new string('x', 1000) + "\r\n");
            await server.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\n"), cts.Token);
            for (var i = 0; i < 40 && !connecting.IsCompleted; i++)
            {
                try
                {
                    await server.SendAsync(filler, cts.Token);
                }
                catch (IOException)
                {
                    break; // the client gave up and closed
                }
            }

            await connecting;
        });
        Assert.Contains("response head", error.Message);
    }

    [Fact]
    public async Task ServerClosingDuringTheHandshakeFailsTheConnect()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var connecting = WebSocketClientChannel.ConnectAsync(server.Url(), MoqWebSocketClientOptions.Default, cts.Token);
        await server.AcceptAsync(cts.Token);
        server.Drop();
        await Assert.ThrowsAsync<WebSocketConnectException>(() => connecting);
    }

    [Fact]
    public async Task ServerThatNeverAnswersTimesOutWithinTheConnectTimeout()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(200) };
        var connecting = WebSocketClientChannel.ConnectAsync(server.Url(), options, cts.Token);
        await server.AcceptAsync(cts.Token); // reads the request, answers nothing
        var error = await Assert.ThrowsAsync<WebSocketConnectException>(() => connecting.WaitAsync(cts.Token));
        Assert.Contains("timed out", error.Message);
        Assert.Null(error.StatusCode);
    }

    [Fact]
    public async Task FramesArrivingWithThe101AreNotLost()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        byte[] trailing = [.. RawWebSocketServer.Frame(0x82, "first"u8), .. RawWebSocketServer.Frame(0x82, "second"u8)];
        await using var channel = await ConnectAsync(server, cts.Token, trailing: trailing);
        Assert.Equal("first"u8.ToArray(), (await channel.ReceiveAsync(cts.Token))!.Value.ToArray());
        Assert.Equal("second"u8.ToArray(), (await channel.ReceiveAsync(cts.Token))!.Value.ToArray());
    }

    [Fact]
    public async Task ManyRecordsInOneReadAreHandedOutInOrder()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        // 3000 records of 0..299 bytes: several reads, records straddling the read buffer's end.
        var burst = new List<byte>();
        for (var i = 0; i < 3000; i++)
        {
            burst.AddRange(RawWebSocketServer.Frame(0x82, Enumerable.Range(0, i % 300).Select(b => (byte)(b + i)).ToArray()));
        }

        var sending = server.SendAsync(burst.ToArray(), cts.Token).AsTask();
        for (var i = 0; i < 3000; i++)
        {
            var record = (await channel.ReceiveAsync(cts.Token))!.Value;
            Assert.Equal(Enumerable.Range(0, i % 300).Select(b => (byte)(b + i)).ToArray(), record.ToArray());
        }

        await sending;
    }

    [Fact]
    public async Task FragmentedMessageIsAssembledAndAnInterleavedPingIsAnswered()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        await server.SendAsync([
            .. RawWebSocketServer.Frame(0x02, "abc"u8), // binary, not final
            .. RawWebSocketServer.Frame(0x89, "ping!"u8),
            .. RawWebSocketServer.Frame(0x00, "def"u8), // continuation, not final
            .. RawWebSocketServer.Frame(0x80, "ghi"u8), // continuation, final
        ], cts.Token);

        Assert.Equal("abcdefghi"u8.ToArray(), (await channel.ReceiveAsync(cts.Token))!.Value.ToArray());
        var (first, _, _, payload) = await server.ReadFrameAsync(cts.Token);
        Assert.Equal(0x8A, first);
        Assert.Equal("ping!"u8.ToArray(), payload);
    }

    [Fact]
    public async Task MessageLargerThanTheReadBufferIsAssembled()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        var big = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 13)).ToArray();
        var sending = server.SendAsync([.. RawWebSocketServer.Frame(0x82, big), .. RawWebSocketServer.Frame(0x82, "after"u8)], cts.Token).AsTask();
        Assert.Equal(big, (await channel.ReceiveAsync(cts.Token))!.Value.ToArray());
        Assert.Equal("after"u8.ToArray(), (await channel.ReceiveAsync(cts.Token))!.Value.ToArray());
        await sending;
    }

    [Fact]
    public async Task BatchedRecordsGoOutAsMaskedFinalBinaryFramesWithMinimalLengthsAndFreshKeys()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        int[] sizes = [1, 125, 126, 16_384, 7];
        foreach (var size in sizes)
        {
            var span = channel.GetRecordSpan(WebSocketRecordChannel.DefaultMaxRecordSize);
            for (var i = 0; i < size; i++)
            {
                span[i] = (byte)(i + size);
            }

            channel.CommitRecord(size);
        }

        await channel.FlushAsync(cts.Token);
        var keys = new HashSet<uint>();
        foreach (var size in sizes)
        {
            var (first, lengthBytes, key, payload) = await server.ReadFrameAsync(cts.Token);
            Assert.Equal(0x82, first);
            Assert.Equal(size < 126 ? 1 : 3, lengthBytes);
            Assert.Equal(Enumerable.Range(0, size).Select(i => (byte)(i + size)).ToArray(), payload);
            keys.Add(key);
        }

        Assert.Equal(sizes.Length, keys.Count);
    }

    [Fact]
    public async Task EmptyRecordIsAnEmptyMessage()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        await channel.SendAsync(ReadOnlyMemory<byte>.Empty, cts.Token);
        var (first, _, _, payload) = await server.ReadFrameAsync(cts.Token);
        Assert.Equal(0x82, first);
        Assert.Empty(payload);
    }

    public static TheoryData<string, int, ulong> HostileFrames => new()
    {
        { "masked", 1002, (ulong)MoqErrorCode.ProtocolViolation },
        { "text", 1002, (ulong)MoqErrorCode.ProtocolViolation },
        { "reserved bit", 1002, (ulong)MoqErrorCode.ProtocolViolation },
        { "reserved opcode", 1002, (ulong)MoqErrorCode.ProtocolViolation },
        { "continuation first", 1002, (ulong)MoqErrorCode.ProtocolViolation },
        { "fragmented ping", 1002, (ulong)MoqErrorCode.ProtocolViolation },
        { "oversized", 1009, (ulong)MoqErrorCode.BoundsExceeded },
        { "oversized in fragments", 1009, (ulong)MoqErrorCode.BoundsExceeded },
        { "64-bit length with top bit", 1002, (ulong)MoqErrorCode.ProtocolViolation },
        { "bad close code", 1002, (ulong)MoqErrorCode.ProtocolViolation },
    };

    [Theory]
    [MemberData(nameof(HostileFrames))]
    public async Task HostileFramesCloseWithTheRightStatusAndFailTheReceive(string kind, int closeStatus, ulong code)
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { QMux = new QMuxOptions { MaxIncomingRecordSize = 1000 } };
        await using var channel = await ConnectAsync(server, cts.Token, options);
        byte[] frame = kind switch
        {
            "masked" => RawWebSocketServer.Frame(0x82, "x"u8, mask: true),
            "text" => RawWebSocketServer.Frame(0x81, "hello"u8),
            "reserved bit" => RawWebSocketServer.Frame(0xC2, "x"u8),
            "reserved opcode" => RawWebSocketServer.Frame(0x83, "x"u8),
            "continuation first" => RawWebSocketServer.Frame(0x80, "x"u8),
            "fragmented ping" => RawWebSocketServer.Frame(0x09, "x"u8),
            "oversized" => RawWebSocketServer.Frame(0x82, new byte[1001]),
            "oversized in fragments" => [.. RawWebSocketServer.Frame(0x02, new byte[600]), .. RawWebSocketServer.Frame(0x80, new byte[401])],
            "64-bit length with top bit" => RawWebSocketServer.Frame(0x82, [], declaredLength: 1UL << 63),
            _ => RawWebSocketServer.Frame(0x88, [0x03, 0xEC]), // 1004 is reserved
        };
        await server.SendAsync(frame, cts.Token);

        var error = await Assert.ThrowsAsync<ConnectionClosedException>(async () => await channel.ReceiveAsync(cts.Token));
        Assert.Equal(code, error.Code);
        Assert.Equal(closeStatus, await server.ReadUntilCloseAsync(cts.Token));
    }

    [Fact]
    public async Task MessageExactlyAtTheBoundIsAccepted()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { QMux = new QMuxOptions { MaxIncomingRecordSize = 1000 } };
        await using var channel = await ConnectAsync(server, cts.Token, options);
        await server.SendAsync([.. RawWebSocketServer.Frame(0x02, new byte[600]), .. RawWebSocketServer.Frame(0x80, new byte[400])], cts.Token);
        Assert.Equal(1000, (await channel.ReceiveAsync(cts.Token))!.Value.Length);
    }

    [Fact]
    public async Task PeerCloseIsEchoedAndEndsTheChannel()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        await server.SendAsync(RawWebSocketServer.Frame(0x88, [0x0F, 0xA6, .. "going away"u8]), cts.Token); // 4006
        Assert.Null(await channel.ReceiveAsync(cts.Token));
        Assert.Equal((WebSocketCloseStatus)4006, channel.PeerCloseStatus);
        Assert.Equal("going away", channel.PeerCloseDescription);
        Assert.Equal(4006, await server.ReadUntilCloseAsync(cts.Token));
        Assert.Null(await channel.ReceiveAsync(cts.Token));
        await Assert.ThrowsAsync<ConnectionClosedException>(async () => await channel.SendAsync(new byte[1], cts.Token));
    }

    [Fact]
    public async Task ConnectionDroppedWithoutACloseFailsTheReceive()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        await server.SendAsync(RawWebSocketServer.Frame(0x82, "last"u8), cts.Token);
        server.Drop();
        Assert.Equal("last"u8.ToArray(), (await channel.ReceiveAsync(cts.Token))!.Value.ToArray());
        var error = await Assert.ThrowsAsync<ConnectionClosedException>(async () => await channel.ReceiveAsync(cts.Token));
        Assert.Equal((ulong)MoqErrorCode.Transport, error.Code);
    }

    [Fact]
    public async Task CloseSendsTheMappedStatusAndReason()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        await using var channel = await ConnectAsync(server, cts.Token);
        await channel.CloseAsync(6, "unauthorized");
        var (first, _, _, payload) = await server.ReadFrameAsync(cts.Token);
        Assert.Equal(0x88, first);
        Assert.Equal([0x0F, 0xA6, .. "unauthorized"u8], payload);
    }

    [Fact]
    public async Task KeepAliveSendsUnsolicitedPongs()
    {
        await using var server = RawWebSocketServer.Start();
        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(50) };
        await using var channel = await ConnectAsync(server, cts.Token, options);
        for (var i = 0; i < 2; i++)
        {
            var (first, _, _, payload) = await server.ReadFrameAsync(cts.Token);
            Assert.Equal(0x8A, first);
            Assert.Empty(payload);
        }
    }

    [Fact]
    public async Task AFlushCancelledWhileAControlFrameIsBeingWrittenKeepsWritesOneAtATime()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var stream = new GatedStream();
        await using var channel = WebSocketClientChannel.OverStream(stream);
        var receiving = channel.ReceiveAsync(cts.Token).AsTask();

        // A Ping: its Pong's write holds the send lock, stuck in the gate.
        stream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stream.Feed(RawWebSocketServer.Frame(0x89, "1"u8));
        await stream.WriteStarted.Task.WaitAsync(cts.Token);

        // A batch whose flush is cancelled while it waits for the lock.
        channel.GetRecordSpan(10)[..3].Fill(7);
        channel.CommitRecord(3);
        using (var cancel = new CancellationTokenSource())
        {
            var flushing = channel.FlushAsync(cancel.Token).AsTask();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => flushing);
        }

        // Still one writer at a time: a batch waits until the stuck Pong is written (a second Ping meanwhile gets no Pong
        // of its own while one is in flight).
        stream.Feed(RawWebSocketServer.Frame(0x89, "2"u8));
        channel.GetRecordSpan(10)[..3].Fill(9);
        channel.CommitRecord(3);
        var flushed = channel.FlushAsync(cts.Token).AsTask();
        stream.Gate.SetResult();
        await flushed;
        Assert.Equal(1, stream.MostConcurrentWrites);
        Assert.False(receiving.IsCompleted);
    }

    /// <summary>
    /// An in-memory stream whose reads return what the test feeds and whose writes can be held at a gate, counting how
    /// many writes ever ran at once.
    /// </summary>
    private sealed class GatedStream : Stream
    {
        private readonly System.Threading.Channels.Channel<byte[]> _incoming = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();
        private byte[] _pending = [];
        private int _pendingOffset;
        private int _writes;

        public TaskCompletionSource? Gate { get; set; }

        public TaskCompletionSource WriteStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int MostConcurrentWrites { get; private set; }

        public void Feed(byte[] bytes) => _incoming.Writer.TryWrite(bytes);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_pendingOffset == _pending.Length)
            {
                _pending = await _incoming.Reader.ReadAsync(cancellationToken);
                _pendingOffset = 0;
            }

            var take = Math.Min(buffer.Length, _pending.Length - _pendingOffset);
            _pending.AsSpan(_pendingOffset, take).CopyTo(buffer.Span);
            _pendingOffset += take;
            return take;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var writes = Interlocked.Increment(ref _writes);
            MostConcurrentWrites = Math.Max(MostConcurrentWrites, writes);
            WriteStarted.TrySetResult();
            try
            {
                if (Gate is { } gate)
                    await gate.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _writes);
            }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
