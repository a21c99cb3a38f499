using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>Our server-side WebSocket framing over real Kestrel HTTP/1.1 upgrades, against ClientWebSocket and a raw TCP peer.</summary>
public sealed class WebSocketServerChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Starts a server whose sessions are handed to <paramref name="serve"/> as our channel, disposed after it.</summary>
    private static Task<LoopbackWebSocketServer> StartAsync(Func<WebSocketServerChannel, Task> serve, MoqWebSocketOptions? options = null) =>
        LoopbackWebSocketServer.StartAsync(async context =>
        {
            var accepted = await MoqWebSocketAcceptor.AcceptChannelAsync(context, options);
            if (accepted is null)
            {
                return;
            }

            var channel = Assert.IsType<WebSocketServerChannel>(accepted.Channel);
            await using (channel)
            {
                await serve(channel);
            }
        });

    private static async Task EchoAsync(WebSocketServerChannel channel)
    {
        while (await channel.ReceiveAsync() is { } record)
        {
            await channel.SendAsync(record);
        }
    }

    /// <summary>Runs <paramref name="serve"/> and reports how it ended: null when it returned, else its exception.</summary>
    private static (Func<WebSocketServerChannel, Task> Serve, Task<Exception?> Ended) Observed(Func<WebSocketServerChannel, Task> serve)
    {
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        return (async channel =>
        {
            try
            {
                await serve(channel);
                ended.TrySetResult(null);
            }
            catch (Exception e)
            {
                ended.TrySetResult(e);
            }
        }, ended.Task);
    }

    private static byte[] Pattern(int length, int seed = 0) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed)).ToArray();

    /// <summary>One whole binary message from <paramref name="socket"/>.</summary>
    internal static async Task<byte[]> ReceiveMessageAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[256 * 1024];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            length += result.Count;
            if (result.EndOfMessage)
            {
                return buffer[..length];
            }
        }
    }

    private static async Task<ClientWebSocket> ConnectAsync(LoopbackWebSocketServer server, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("qmux-00");
        await socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), cancellationToken);
        return socket;
    }

    [Fact]
    public async Task RecordsTravelBothWaysAtEveryLengthEncoding()
    {
        await using var server = await StartAsync(EchoAsync);
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        Assert.Equal("qmux-00", socket.SubProtocol);
        foreach (var size in new[] { 0, 1, 125, 126, 127, 1000, 16_383, 16_384 })
        {
            var payload = Pattern(size, size);
            await socket.SendAsync(payload, WebSocketMessageType.Binary, true, cts.Token);
            Assert.Equal(payload, await ReceiveMessageAsync(socket, cts.Token));
        }
    }

    [Fact]
    public async Task LargeClientMessagesUseTheWideLengthForms()
    {
        var received = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();
        await using var server = await StartAsync(async channel =>
        {
            while (await channel.ReceiveAsync() is { } record)
            {
                received.Writer.TryWrite(record.ToArray());
            }
        });
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        // 65 535 is the largest 16-bit length; 65 536 and 200 000 need the 64-bit form.
        foreach (var size in new[] { 65_535, 65_536, 200_000 })
        {
            var payload = Pattern(size, 7);
            await socket.SendAsync(payload, WebSocketMessageType.Binary, true, cts.Token);
            Assert.Equal(payload, await received.Reader.ReadAsync(cts.Token));
        }
    }

    [Fact]
    public async Task ReassemblesFragmentsWithInterleavedPings()
    {
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async channel => received.TrySetResult((await channel.ReceiveAsync())!.Value.ToArray()));
        using var cts = new CancellationTokenSource(Timeout);
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        Assert.Equal(101, raw.StatusCode);
        var payload = Pattern(40_000, 3);
        await raw.SendFrameAsync(0x02, payload.AsSpan(0, 10), cts.Token);               // binary, not final
        await raw.SendFrameAsync(0x89, "hi"u8, cts.Token);                               // a ping in between
        await raw.SendFrameAsync(0x00, payload.AsSpan(10, 20_000), cts.Token);          // continuation
        await raw.SendFrameAsync(0x00, [], cts.Token);                                    // empty continuation
        await raw.SendFrameAsync(0x80, payload.AsSpan(20_010), cts.Token);               // final continuation
        Assert.Equal(payload, await received.Task.WaitAsync(cts.Token));
        var pong = await raw.ReadFrameAsync(cts.Token);
        Assert.Equal(0x8A, pong.First);
        Assert.Equal("hi"u8.ToArray(), pong.Payload);
    }

    [Fact]
    public async Task BatchedRecordsArriveAsSeparateMinimalFramesInOrder()
    {
        // Sizes straddle the 2/4-byte header boundary; a short record committed in a long reservation moves down.
        var sizes = new[] { 1, 125, 126, 16_384, 5, 0, 300, 16_384, 16_384, 16_384, 16_384, 124, 70 };
        var flushed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async channel =>
        {
            var pending = 0;
            for (var i = 0; i < sizes.Length; i++)
            {
                var span = channel.GetRecordSpan(i % 2 == 0 ? channel.MaxRecordSize : Math.Max(sizes[i], 1));
                Pattern(sizes[i], i).CopyTo(span);
                channel.CommitRecord(sizes[i]); // 0 commits nothing
                pending += sizes[i] == 0 ? 0 : sizes[i] + (sizes[i] < 126 ? 2 : 4);
                Assert.Equal(pending, channel.PendingBytes);
            }

            await channel.FlushAsync();
            flushed.TrySetResult(channel.PendingBytes);
            await channel.ReceiveAsync();
        });
        using var cts = new CancellationTokenSource(Timeout);
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        for (var i = 0; i < sizes.Length; i++)
        {
            if (sizes[i] == 0)
            {
                continue;
            }

            var (first, lengthBytes, payload) = await raw.ReadFrameAsync(cts.Token);
            Assert.Equal(0x82, first);
            Assert.Equal(sizes[i] < 126 ? 1 : 3, lengthBytes);
            Assert.Equal(Pattern(sizes[i], i), payload);
        }

        Assert.Equal(0, await flushed.Task.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task BatchMisuseIsRefusedAndTheChannelStaysUsable()
    {
        var (serve, ended) = Observed(async channel =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => channel.GetRecordSpan(channel.MaxRecordSize + 1));
            Assert.Throws<InvalidOperationException>(() => channel.CommitRecord(1));
            channel.GetRecordSpan(10)[0] = 7;
            Assert.Throws<InvalidOperationException>(() => channel.GetRecordSpan(10));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await channel.FlushAsync());
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await channel.SendAsync(new byte[1]));
            Assert.Throws<ArgumentOutOfRangeException>(() => channel.CommitRecord(11)); // closes the window all the same
            channel.GetRecordSpan(10)[0] = 8;
            channel.CommitRecord(1);
            await channel.FlushAsync();
            Assert.Null(await channel.ReceiveAsync());
        });
        await using var server = await StartAsync(serve);
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        Assert.Equal(new byte[] { 8 }, await ReceiveMessageAsync(socket, cts.Token));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        Assert.Null(await ended.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task SendsToAVanishedPeerFailAsConnectionClosed()
    {
        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (serve, ended) = Observed(async channel =>
        {
            await gone.Task;
            // Keep writing until the reset surfaces (Kestrel buffers the first writes and reports the abort from the
            // thread pool); yield so it can.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                channel.GetRecordSpan(channel.MaxRecordSize);
                channel.CommitRecord(channel.MaxRecordSize);
                await channel.FlushAsync();
                await Task.Delay(1);
            }
        });
        await using var server = await StartAsync(serve, new MoqWebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        using var cts = new CancellationTokenSource(Timeout);
        var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        await raw.DisposeAsync();
        gone.TrySetResult();
        Assert.IsType<ConnectionClosedException>(await ended.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task PingsDuringBatchedSendsGetPongsBetweenWholeFrames()
    {
        const int Records = 400;
        await using var server = await StartAsync(async channel =>
        {
            var receive = channel.ReceiveAsync().AsTask();
            for (var i = 0; i < Records; i += 4)
            {
                for (var j = i; j < i + 4; j++)
                {
                    var span = channel.GetRecordSpan(channel.MaxRecordSize);
                    BinaryPrimitives.WriteInt32BigEndian(span, j);
                    channel.CommitRecord(j % 3 == 0 ? 100 : 10_000);
                }

                await channel.FlushAsync();
            }

            await receive;
        });
        using var cts = new CancellationTokenSource(Timeout);
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        var pinger = Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await raw.SendFrameAsync(0x89, [(byte)i], cts.Token);
                await Task.Delay(1, cts.Token);
            }
        });
        var next = 0;
        var pongs = 0;
        var lastPong = -1;
        while (next < Records || lastPong != 49)
        {
            var (first, _, payload) = await raw.ReadFrameAsync(cts.Token);
            if (first == 0x8A)
            {
                // Pongs may be coalesced (only the latest Ping is owed one), but the last Ping is always answered.
                pongs++;
                Assert.True(payload[0] > lastPong);
                lastPong = payload[0];
                continue;
            }

            Assert.Equal(0x82, first);
            Assert.Equal(next % 3 == 0 ? 100 : 10_000, payload.Length);
            Assert.Equal(next++, BinaryPrimitives.ReadInt32BigEndian(payload));
        }

        await pinger;
        Assert.InRange(pongs, 1, 50);
    }

    [Fact]
    public async Task ServerKeepAlivePingsAreAnsweredByClientWebSocket()
    {
        // The timeout leaves room for a loaded CI machine (Pongs late by 400 ms, and once by more than a second under
        // heavy host steal, failed runs); the wait still spans three timeouts, so a connection that ignored Pongs would
        // be aborted long before it ends.
        var options = new MoqWebSocketOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(50), KeepAliveTimeout = TimeSpan.FromMilliseconds(2500) };
        var (serve, ended) = Observed(async channel =>
        {
            var receive = channel.ReceiveAsync().AsTask();
            await Task.Delay(7500);
            Assert.False(receive.IsCompleted);
            await channel.SendAsync(new byte[] { 42 });
            Assert.Null(await receive);
        });
        await using var server = await StartAsync(serve, options);
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        Assert.Equal(new byte[] { 42 }, await ReceiveMessageAsync(socket, cts.Token));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        Assert.Null(await ended.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task SilentPeerIsAbortedAfterTheKeepAliveTimeout()
    {
        var options = new MoqWebSocketOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(100), KeepAliveTimeout = TimeSpan.FromMilliseconds(300) };
        var (serve, ended) = Observed(async channel => await channel.ReceiveAsync());
        await using var server = await StartAsync(serve, options);
        using var cts = new CancellationTokenSource(Timeout);
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        var ping = await raw.ReadFrameAsync(cts.Token);
        Assert.Equal(0x89, ping.First);
        var error = Assert.IsType<ConnectionClosedException>(await ended.WaitAsync(cts.Token));
        Assert.Equal((ulong)MoqErrorCode.Transport, error.Code);
        Assert.Contains("keep-alive", error.Message);
        Assert.True(await raw.IsClosedByServerAsync(cts.Token));
    }

    [Fact]
    public async Task ClientCloseIsAnsweredAndEndsTheChannel()
    {
        var peerClose = new TaskCompletionSource<(WebSocketCloseStatus?, string?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async channel =>
        {
            Assert.Null(await channel.ReceiveAsync());
            Assert.Null(await channel.ReceiveAsync()); // stays ended
            peerClose.TrySetResult((channel.PeerCloseStatus, channel.PeerCloseDescription));
            await Assert.ThrowsAsync<ConnectionClosedException>(async () => await channel.SendAsync(new byte[1]));
        });
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        await socket.CloseAsync((WebSocketCloseStatus)4010, "bye", cts.Token);
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal(((WebSocketCloseStatus)4010, "bye"), await peerClose.Task.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task ServerCloseMapsTheCodeAndCutsTheReasonOnACharacterBoundary()
    {
        // 61 two-byte characters = 122 bytes, then a three-byte one that would cross 123.
        var reason = new string('é', 61) + "€" + "tail";
        await using var server = await StartAsync(async channel =>
        {
            await channel.CloseAsync(7, reason);
            await channel.CloseAsync(8, "ignored: already closing");
            await Assert.ThrowsAsync<ConnectionClosedException>(async () => await channel.SendAsync(new byte[1]));
            Assert.Throws<ConnectionClosedException>(() => channel.GetRecordSpan(1));
            while (await channel.ReceiveAsync() is not null)
            {
            }
        });
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        var result = await socket.ReceiveAsync(new byte[16], cts.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal((WebSocketCloseStatus)4007, socket.CloseStatus);
        Assert.Equal(new string('é', 61), socket.CloseStatusDescription);
        Assert.True(Encoding.UTF8.GetByteCount(socket.CloseStatusDescription!) <= 123);
    }

    [Fact]
    public async Task TextMessageClosesWith1002()
    {
        var (serve, ended) = Observed(async channel => await channel.ReceiveAsync());
        await using var server = await StartAsync(serve);
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
        var error = Assert.IsType<ConnectionClosedException>(await ended.WaitAsync(cts.Token));
        Assert.Equal((ulong)MoqErrorCode.ProtocolViolation, error.Code);
        var result = await socket.ReceiveAsync(new byte[64], cts.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.ProtocolError, socket.CloseStatus);
    }

    [Theory]
    [InlineData(1001, false)] // one message over the bound
    [InlineData(600, true)]   // two fragments that add up to more
    public async Task OversizedMessageClosesWith1009(int size, bool fragmented)
    {
        var options = new MoqWebSocketOptions { QMux = new QMuxOptions { MaxIncomingRecordSize = 1000 } };
        var (serve, ended) = Observed(async channel => await channel.ReceiveAsync());
        await using var server = await StartAsync(serve, options);
        using var cts = new CancellationTokenSource(Timeout);
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        if (fragmented)
        {
            await raw.SendFrameAsync(0x02, new byte[size], cts.Token);
            await raw.SendFrameAsync(0x80, new byte[size], cts.Token);
        }
        else
        {
            await raw.SendFrameAsync(0x82, new byte[size], cts.Token);
        }

        var error = Assert.IsType<ConnectionClosedException>(await ended.WaitAsync(cts.Token));
        Assert.Equal((ulong)MoqErrorCode.BoundsExceeded, error.Code);
        Assert.Equal(1009, await raw.ReadUntilCloseAsync(cts.Token));
    }

    public static TheoryData<string, byte[]> BadFrames => new()
    {
        { "unmasked", RawWebSocketClient.Frame(0x82, [1, 2, 3], mask: false) },
        { "rsv1", RawWebSocketClient.Frame(0xC2, [1, 2, 3]) },
        { "rsv3", RawWebSocketClient.Frame(0x92, [1, 2, 3]) },
        { "opcode 3", RawWebSocketClient.Frame(0x83, [1, 2, 3]) },
        { "opcode 0xB", RawWebSocketClient.Frame(0x8B, []) },
        { "fragmented ping", RawWebSocketClient.Frame(0x09, [1]) },
        { "control over 125", RawWebSocketClient.Frame(0x89, new byte[126]) },
        { "lone continuation", RawWebSocketClient.Frame(0x80, [1]) },
        { "64-bit top bit", RawWebSocketClient.Frame(0x82, [], declaredLength: 0x8000_0000_0000_0000) },
        { "close with 1 byte", RawWebSocketClient.Frame(0x88, [3]) },
        { "close code 1005", RawWebSocketClient.Frame(0x88, [0x03, 0xED]) },
        { "new message mid-fragment", [.. RawWebSocketClient.Frame(0x02, [1]), .. RawWebSocketClient.Frame(0x82, [2])] },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task ProtocolViolationsCloseWith1002AndOnlyThatSession(string name, byte[] frames)
    {
        var failures = System.Threading.Channels.Channel.CreateUnbounded<Exception?>();
        await using var server = await StartAsync(async channel =>
        {
            try
            {
                while (await channel.ReceiveAsync() is { } record)
                {
                    await channel.SendAsync(record);
                }

                failures.Writer.TryWrite(null);
            }
            catch (Exception e)
            {
                failures.Writer.TryWrite(e);
            }
        });
        using var cts = new CancellationTokenSource(Timeout);
        using var bystander = await ConnectAsync(server, cts.Token);
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        await raw.SendAsync(frames, cts.Token);

        var error = Assert.IsType<ConnectionClosedException>(await failures.Reader.ReadAsync(cts.Token));
        Assert.True(error.Code == (ulong)MoqErrorCode.ProtocolViolation, $"{name}: {error.Message}");
        Assert.Equal(1002, await raw.ReadUntilCloseAsync(cts.Token));
        Assert.True(await raw.IsClosedByServerAsync(cts.Token));

        // The other session is untouched.
        await bystander.SendAsync(new byte[] { 9 }, WebSocketMessageType.Binary, true, cts.Token);
        Assert.Equal(new byte[] { 9 }, await ReceiveMessageAsync(bystander, cts.Token));
    }

    [Fact]
    public async Task DisposeEndsAPendingReceive()
    {
        var (serve, ended) = Observed(async channel =>
        {
            var receive = channel.ReceiveAsync().AsTask();
            await channel.DisposeAsync();
            await receive;
        });
        await using var server = await StartAsync(serve);
        using var cts = new CancellationTokenSource(Timeout);
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, cancellationToken: cts.Token);
        Assert.Equal(1000, await raw.ReadUntilCloseAsync(cts.Token));
        Assert.IsType<ConnectionClosedException>(await ended.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task HandshakeAnswersTheRfcAcceptWithoutExtensions()
    {
        await using var server = await StartAsync(EchoAsync);
        using var cts = new CancellationTokenSource(Timeout);
        var headers = RawWebSocketClient.HandshakeHeaders(protocol: "qmux-00.moq-lite-05, qmux-00");
        headers.Add("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits");
        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, headers, cancellationToken: cts.Token);
        Assert.Equal(101, raw.StatusCode);
        // RFC 6455 §1.3's example key and answer.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", raw.Headers["Sec-WebSocket-Accept"]);
        Assert.Equal("qmux-00.moq-lite-05", raw.Headers["Sec-WebSocket-Protocol"]);
        Assert.Equal("websocket", raw.Headers["Upgrade"], ignoreCase: true);
        Assert.False(raw.Headers.ContainsKey("Sec-WebSocket-Extensions"));
    }

    [Theory]
    [InlineData("missing key", "Sec-WebSocket-Key:", null, 400)]
    [InlineData("short key", "Sec-WebSocket-Key:", "Sec-WebSocket-Key: AAAAAAAAAAA=", 400)]
    [InlineData("two keys", null, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==", 400)]
    [InlineData("old version", "Sec-WebSocket-Version:", "Sec-WebSocket-Version: 8", 426)]
    [InlineData("missing version", "Sec-WebSocket-Version:", null, 426)]
    [InlineData("unknown subprotocol", "Sec-WebSocket-Protocol:", "Sec-WebSocket-Protocol: moqt-17", 400)]
    public async Task BadHandshakesAreRefused(string name, string? remove, string? add, int status)
    {
        var sessions = 0;
        await using var server = await StartAsync(channel =>
        {
            Interlocked.Increment(ref sessions);
            return Task.CompletedTask;
        });
        using var cts = new CancellationTokenSource(Timeout);
        var headers = RawWebSocketClient.HandshakeHeaders();
        if (remove is not null)
        {
            headers.RemoveAll(h => h.StartsWith(remove, StringComparison.Ordinal));
        }

        if (add is not null)
        {
            headers.Add(add);
        }

        await using var raw = await RawWebSocketClient.ConnectAsync(server.BaseUri, headers, cancellationToken: cts.Token);
        Assert.True(status == raw.StatusCode, $"{name}: {raw.StatusCode}");
        if (status == 426)
        {
            Assert.Equal("13", raw.Headers["Sec-WebSocket-Version"]);
        }

        Assert.Equal(0, sessions);
    }

    [Fact]
    public async Task IdleSessionCanStillSendAfterABatchAndAfterAReceive()
    {
        // The send and receive buffers are given back between uses; the next use rents again.
        await using var server = await StartAsync(async channel =>
        {
            for (var round = 0; round < 3; round++)
            {
                var record = (await channel.ReceiveAsync())!.Value.ToArray();
                record.CopyTo(channel.GetRecordSpan(record.Length));
                channel.CommitRecord(record.Length);
                await channel.FlushAsync();
                await channel.SendAsync(record);
            }
        });
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = await ConnectAsync(server, cts.Token);
        for (var round = 0; round < 3; round++)
        {
            var payload = Pattern(3000 * (round + 1), round);
            await socket.SendAsync(payload, WebSocketMessageType.Binary, true, cts.Token);
            Assert.Equal(payload, await ReceiveMessageAsync(socket, cts.Token));
            Assert.Equal(payload, await ReceiveMessageAsync(socket, cts.Token));
        }
    }

    [Fact]
    public async Task Http2WebSocketsKeepAspNetCoresWebSocket()
    {
        using var certificate = QuicMoqConnectionTests.CreateCertificate();
        var kinds = new TaskCompletionSource<Type>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackWebSocketServer.StartAsync(async context =>
        {
            var accepted = await MoqWebSocketAcceptor.AcceptChannelAsync(context);
            kinds.TrySetResult(accepted!.Channel.GetType());
            await using var channel = accepted.Channel;
            while (await channel.ReceiveAsync() is { } record)
            {
                await channel.SendAsync(record);
            }
        }, certificate);
        using var cts = new CancellationTokenSource(Timeout);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var invoker = new HttpMessageInvoker(handler);
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.AddSubProtocol("qmux-00");
        await socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), invoker, cts.Token);
        Assert.Equal(typeof(WebSocketRecordChannel), await kinds.Task.WaitAsync(cts.Token));
        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, cts.Token);
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReceiveMessageAsync(socket, cts.Token));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, 1)]
    [InlineData(100, 2)]
    [InlineData(1000, 3)]
    [InlineData(77, 0)]
    public void UnmaskMatchesByteWiseXor(int length, int offset)
    {
        var source = Pattern(length, 5);
        byte[] key = [0x12, 0x34, 0x56, 0x78];
        var destination = new byte[length];
        var next = WebSocketFraming.Unmask(source, destination, BinaryPrimitives.ReadUInt32LittleEndian(key), offset);
        Assert.Equal((offset + length) & 3, next);
        for (var i = 0; i < length; i++)
        {
            Assert.Equal((byte)(source[i] ^ key[(offset + i) & 3]), destination[i]);
        }
    }

    [Fact]
    public void AcceptKeyIsTheRfcExample() =>
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="));
}
