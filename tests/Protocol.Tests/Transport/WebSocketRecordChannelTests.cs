using System.Net.WebSockets;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>Record-level loopback over real Kestrel WebSockets (no QMux engine involved).</summary>
public sealed class WebSocketRecordChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Starts a server that accepts at record level and hands each accepted channel to <paramref name="serve"/>.</summary>
    private static Task<LoopbackWebSocketServer> StartAsync(
        Func<AcceptedChannel, Task> serve, MoqWebSocketOptions? options = null) =>
        LoopbackWebSocketServer.StartAsync(async context =>
        {
            var accepted = await MoqWebSocketAcceptor.AcceptChannelAsync(context, options);
            if (accepted is null)
            {
                return;
            }

            await using (accepted.Channel)
            {
                await serve(accepted);
            }
        });

    private static async Task EchoAsync(AcceptedChannel accepted)
    {
        while (await accepted.Channel.ReceiveAsync() is { } record)
        {
            await accepted.Channel.SendAsync(record);
        }
    }

    [Fact]
    public async Task EchoesRecordsAndNegotiatesDefaultOffer()
    {
        await using var server = await StartAsync(EchoAsync);
        using var cts = new CancellationTokenSource(Timeout);
        var (channel, selection) = await MoqWebSocketClient.ConnectChannelAsync(server.Url("/"), cancellationToken: cts.Token);
        await using (channel)
        {
            Assert.Equal("qmux-00.moq-lite-05", selection.Subprotocol);
            Assert.Equal("moq-lite-05", selection.ApplicationProtocol);
            foreach (var size in new[] { 1, 100, 16_384 })
            {
                var payload = Enumerable.Range(0, size).Select(i => (byte)i).ToArray();
                await channel.SendAsync(payload, cts.Token);
                var echoed = await channel.ReceiveAsync(cts.Token);
                Assert.Equal(payload, echoed!.Value.ToArray());
            }

            // An empty record is still a record.
            await channel.SendAsync(ReadOnlyMemory<byte>.Empty, cts.Token);
            Assert.Equal(0, (await channel.ReceiveAsync(cts.Token))!.Value.Length);
        }
    }

    [Fact]
    public async Task ReassemblesFragmentedMessages()
    {
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async accepted =>
        {
            var record = await accepted.Channel.ReceiveAsync();
            received.TrySetResult(record!.Value.ToArray());
        });

        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("qmux-00");
        await socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), cts.Token);
        // 40 000 bytes in three fragments: bigger than the initial buffer, within the 64 KiB bound.
        var payload = Enumerable.Range(0, 40_000).Select(i => (byte)(i * 7)).ToArray();
        await socket.SendAsync(payload.AsMemory(0, 10), WebSocketMessageType.Binary, false, cts.Token);
        await socket.SendAsync(payload.AsMemory(10, 20_000), WebSocketMessageType.Binary, false, cts.Token);
        await socket.SendAsync(payload.AsMemory(20_010), WebSocketMessageType.Binary, true, cts.Token);
        Assert.Equal(payload, await received.Task.WaitAsync(cts.Token));
    }

    [Fact]
    public Task TextMessageIsAProtocolError()
        => SendAndExpectCloseAsync("hello"u8.ToArray(), WebSocketMessageType.Text, WebSocketCloseStatus.ProtocolError);

    [Fact]
    public Task OversizedMessageIsRefused()
        => SendAndExpectCloseAsync(new byte[1001], WebSocketMessageType.Binary, WebSocketCloseStatus.MessageTooBig,
            new MoqWebSocketOptions { QMux = new QMuxOptions { MaxIncomingRecordSize = 1000 } });

    /// <summary>Sends one message the server channel must refuse: its receive fails and the client sees <paramref name="expected"/>.</summary>
    private static async Task SendAndExpectCloseAsync(byte[] message, WebSocketMessageType type, WebSocketCloseStatus expected, MoqWebSocketOptions? options = null)
    {
        var failure = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(async accepted =>
        {
            try
            {
                await accepted.Channel.ReceiveAsync();
                failure.TrySetResult(null);
            }
            catch (Exception e)
            {
                failure.TrySetResult(e);
            }
        }, options);

        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("qmux-00");
        await socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), cts.Token);
        await socket.SendAsync(message, type, true, cts.Token);

        Assert.IsType<ConnectionClosedException>(await failure.Task.WaitAsync(cts.Token));
        var result = await socket.ReceiveAsync(new byte[64], cts.Token);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(expected, socket.CloseStatus);
    }

    [Fact]
    public async Task MessageExactlyAtTheBoundIsAccepted()
    {
        var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(
            async accepted => received.TrySetResult((await accepted.Channel.ReceiveAsync())!.Value.Length),
            new MoqWebSocketOptions { QMux = new QMuxOptions { MaxIncomingRecordSize = 1000 } });

        using var cts = new CancellationTokenSource(Timeout);
        var (channel, _) = await MoqWebSocketClient.ConnectChannelAsync(server.BaseUri, cancellationToken: cts.Token);
        await using (channel)
        {
            await channel.SendAsync(new byte[1000], cts.Token);
            Assert.Equal(1000, await received.Task.WaitAsync(cts.Token));
        }
    }

    [Fact]
    public async Task CloseSendsACloseFrameWithMappedCode()
    {
        await using var server = await StartAsync(async accepted =>
        {
            await accepted.Channel.CloseAsync(6, "unauthorized");
            // Keep the request alive until the client answers the Close.
            while (await accepted.Channel.ReceiveAsync() is not null)
            {
            }
        });

        using var cts = new CancellationTokenSource(Timeout);
        var (channel, _) = await MoqWebSocketClient.ConnectChannelAsync(server.BaseUri, cancellationToken: cts.Token);
        await using (channel)
        {
            Assert.Null(await channel.ReceiveAsync(cts.Token));
            Assert.Equal((WebSocketCloseStatus)4006, channel.PeerCloseStatus);
            Assert.Equal("unauthorized", channel.PeerCloseDescription);
            // After the peer's Close, sends fail cleanly.
            await Assert.ThrowsAsync<ConnectionClosedException>(async () => await channel.SendAsync(new byte[1], cts.Token));
        }
    }

    [Fact]
    public void CloseCodeMapping()
    {
        Assert.Equal(WebSocketCloseStatus.NormalClosure, WebSocketRecordChannel.ToCloseStatus(0));
        Assert.Equal((WebSocketCloseStatus)4015, WebSocketRecordChannel.ToCloseStatus(15));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, WebSocketRecordChannel.ToCloseStatus(1_000_000));
    }

    [Fact]
    public async Task PathAndJwtReachTheServer()
    {
        var seen = new TaskCompletionSource<(string Path, string? Jwt)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(accepted =>
        {
            seen.TrySetResult((accepted.Path, accepted.Jwt));
            return Task.CompletedTask;
        });

        using var cts = new CancellationTokenSource(Timeout);
        const string token = "eyJhbGciOiJIUzI1NiJ9.eyJyb290IjoiYW5vbiJ9.abc-_DEF";
        var (channel, _) = await MoqWebSocketClient.ConnectChannelAsync(
            server.Url($"/anon/room?jwt={token}&other=1"), cancellationToken: cts.Token);
        await using (channel)
        {
            var (path, jwt) = await seen.Task.WaitAsync(cts.Token);
            Assert.Equal("/anon/room", path);
            Assert.Equal(token, jwt);
        }
    }

    [Fact]
    public async Task EmptyJwtCountsAsAbsent()
    {
        var seen = new TaskCompletionSource<(string Path, string? Jwt)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StartAsync(accepted =>
        {
            seen.TrySetResult((accepted.Path, accepted.Jwt));
            return Task.CompletedTask;
        });

        using var cts = new CancellationTokenSource(Timeout);
        var (channel, _) = await MoqWebSocketClient.ConnectChannelAsync(server.Url("/?jwt="), cancellationToken: cts.Token);
        await using (channel)
        {
            var (path, jwt) = await seen.Task.WaitAsync(cts.Token);
            Assert.Equal("/", path);
            Assert.Null(jwt);
        }
    }

    [Fact]
    public async Task UnusableOfferGetsHttp400()
    {
        await using var server = await StartAsync(EchoAsync);
        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { Subprotocols = ["qmux-01.moqt-20", "qmux-00.moqt-17"] };
        var error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => MoqWebSocketClient.ConnectChannelAsync(server.BaseUri, options, cts.Token));
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public async Task RawClientWithOnlyIetfOfferGetsHttp400()
    {
        await using var server = await StartAsync(EchoAsync);
        using var cts = new CancellationTokenSource(Timeout);
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("moqt-17");
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(
            () => socket.ConnectAsync(MoqWebSocketClient.ToWebSocketUri(server.BaseUri), cts.Token));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task PlainHttpRequestGetsHttp400()
    {
        await using var server = await StartAsync(EchoAsync);
        using var http = new HttpClient();
        var response = await http.GetAsync(server.BaseUri);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task NoOfferIsAcceptedAsLegacy()
    {
        await using var server = await StartAsync(EchoAsync);
        using var cts = new CancellationTokenSource(Timeout);
        var (channel, selection) = await MoqWebSocketClient.ConnectChannelAsync(
            server.BaseUri, new MoqWebSocketClientOptions { Subprotocols = [] }, cts.Token);
        await using (channel)
        {
            Assert.Null(selection.Subprotocol);
            Assert.Equal(QMuxWireFormat.Legacy, selection.WireFormat);
            await channel.SendAsync(new byte[] { 9, 0 }, cts.Token);
            Assert.Equal(new byte[] { 9, 0 }, (await channel.ReceiveAsync(cts.Token))!.Value.ToArray());
        }
    }

    [Fact]
    public async Task RestrictedServerSelectsWhatItSupports()
    {
        var options = new MoqWebSocketOptions
        {
            Selector = SubprotocolSelector.For([MoqCluster.Protocol.Coding.MoqVersion.Lite03, MoqCluster.Protocol.Coding.MoqVersion.Lite04], SubprotocolSelector.DefaultWireFormats),
        };
        await using var server = await StartAsync(EchoAsync, options);
        using var cts = new CancellationTokenSource(Timeout);
        var (channel, selection) = await MoqWebSocketClient.ConnectChannelAsync(
            server.BaseUri, new MoqWebSocketClientOptions { Subprotocols = SubprotocolSelectorTests.MoqNet034 }, cts.Token);
        await using (channel)
        {
            Assert.Equal("qmux-00.moq-lite-04", selection.Subprotocol);
            Assert.Equal(channel.SubProtocol, selection.Subprotocol);
        }
    }

    [Fact]
    public async Task CustomHeadersReachTheServer()
    {
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackWebSocketServer.StartAsync(async context =>
        {
            seen.TrySetResult(context.Request.Headers["X-Moq-Test"].FirstOrDefault());
            var accepted = await MoqWebSocketAcceptor.AcceptChannelAsync(context);
            await using var channel = accepted!.Channel;
        });

        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { Headers = new Dictionary<string, string> { ["X-Moq-Test"] = "yes" } };
        var (channel, _) = await MoqWebSocketClient.ConnectChannelAsync(server.BaseUri, options, cts.Token);
        await using (channel)
        {
            Assert.Equal("yes", await seen.Task.WaitAsync(cts.Token));
        }
    }
}
