using System.Security.Cryptography;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// End-to-end loopback: Kestrel + <see cref="MoqWebSocketAcceptor"/> on one side, <see cref="MoqWebSocketClient"/> on the
/// other, QMux connections on both, streams both ways in every wire format.
/// </summary>
public sealed class WebSocketMoqConnectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The server side of every test: echoes client bidi streams, answers each client uni stream with a server uni
    /// stream carrying the same bytes, and opens one bidi stream of its own expecting an answer.
    /// </summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly LoopbackWebSocketServer _server;

        private EchoServer(LoopbackWebSocketServer server) => _server = server;

        public TaskCompletionSource<AcceptedConnection> Accepted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<byte[]> ServerBidiReply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<ConnectionCloseInfo> ServerClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Uri Url(string pathAndQuery) => _server.Url(pathAndQuery);

        public static async Task<EchoServer> StartAsync(MoqWebSocketOptions? options = null)
        {
            EchoServer? echo = null;
            var server = await LoopbackWebSocketServer.StartAsync(async context =>
            {
                var accepted = await MoqWebSocketAcceptor.AcceptAsync(context, options);
                if (accepted is null)
                {
                    return;
                }

                await using var connection = accepted.Connection;
                echo!.Accepted.TrySetResult(accepted);
                _ = Task.Run(() => EchoBidiAsync(connection));
                _ = Task.Run(() => ReflectUniAsync(connection));
                _ = Task.Run(() => echo.AskClientAsync(connection));
                echo.ServerClosed.TrySetResult(await connection.Closed);
            });
            echo = new EchoServer(server);
            return echo;
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();

        private static async Task EchoBidiAsync(IMoqConnection connection)
        {
            while (await connection.AcceptBidiAsync() is { } stream)
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        var buffer = new byte[32 * 1024];
                        int read;
                        while ((read = await stream.Recv.ReadAsync(buffer)) > 0)
                        {
                            await stream.Send.WriteAsync(buffer.AsMemory(0, read));
                        }

                        await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true);
                    }
                    catch (IOException)
                    {
                        // Connection closed mid-echo at the end of a test.
                    }
                });
            }
        }

        private static async Task ReflectUniAsync(IMoqConnection connection)
        {
            while (await connection.AcceptUniAsync() is { } stream)
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        var data = await QuicMoqConnectionTests.ReadToEndAsync(stream, CancellationToken.None);
                        var back = await connection.OpenUniAsync();
                        await back.WriteAsync(data, fin: true);
                    }
                    catch (IOException)
                    {
                    }
                });
            }
        }

        private async Task AskClientAsync(IMoqConnection connection)
        {
            try
            {
                var stream = await connection.OpenBidiAsync();
                await stream.Send.WriteAsync("question from server"u8.ToArray(), fin: true);
                ServerBidiReply.TrySetResult(await QuicMoqConnectionTests.ReadToEndAsync(stream.Recv, CancellationToken.None));
            }
            catch (Exception e)
            {
                ServerBidiReply.TrySetException(e);
            }
        }
    }

    [Theory]
    [InlineData("webtransport", QMuxWireFormat.Legacy, null)]
    [InlineData("qmux-00", QMuxWireFormat.Qmux00, null)]
    [InlineData("qmux-00.moq-lite-04", QMuxWireFormat.Qmux00, "moq-lite-04")]
    [InlineData("qmux-01.moq-lite-05", QMuxWireFormat.Qmux01, "moq-lite-05")]
    [InlineData("qmux-02.moq-lite-03", QMuxWireFormat.Qmux02, "moq-lite-03")]
    public async Task StreamsBothWays(string subprotocol, QMuxWireFormat format, string? alpn)
    {
        await using var server = await EchoServer.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var options = new MoqWebSocketClientOptions { Subprotocols = [subprotocol] };
        await using var client = await MoqWebSocketClient.ConnectAsync(server.Url("/"), options, cts.Token);

        var tag = WebSocketSubprotocol.Tag(format);
        Assert.Equal(alpn, client.ApplicationProtocol);
        Assert.Equal($"websocket/{tag}", client.TransportName);
        Assert.False(client.IsUrlLess);
        var accepted = await server.Accepted.Task.WaitAsync(cts.Token);
        Assert.Equal(subprotocol, accepted.Subprotocol);
        Assert.Equal(alpn, accepted.Connection.ApplicationProtocol);
        Assert.Equal($"websocket/{tag}", accepted.Connection.TransportName);

        // Client-initiated bidi: echo.
        var bidi = await client.OpenBidiAsync(cts.Token);
        await bidi.Send.WriteAsync("hello"u8.ToArray(), fin: true, cts.Token);
        Assert.Equal("hello"u8.ToArray(), await QuicMoqConnectionTests.ReadToEndAsync(bidi.Recv, cts.Token));

        // Client-initiated uni, answered by a server-initiated uni.
        var uni = await client.OpenUniAsync(cts.Token);
        await uni.WriteAsync("uni up"u8.ToArray(), fin: true, cts.Token);
        var back = (await client.AcceptUniAsync(cts.Token))!;
        Assert.Equal("uni up"u8.ToArray(), await QuicMoqConnectionTests.ReadToEndAsync(back, cts.Token));

        // Server-initiated bidi: we answer.
        var question = (await client.AcceptBidiAsync(cts.Token))!;
        Assert.Equal("question from server"u8.ToArray(), await QuicMoqConnectionTests.ReadToEndAsync(question.Recv, cts.Token));
        await question.Send.WriteAsync("answer"u8.ToArray(), fin: true, cts.Token);
        Assert.Equal("answer"u8.ToArray(), await server.ServerBidiReply.Task.WaitAsync(cts.Token));

        // Stream ids follow QUIC numbering on every WebSocket format (spec §2.3.2).
        Assert.Equal(0, bidi.Id & 3);
        Assert.Equal(2, uni.Id & 3);
        Assert.Equal(1, question.Id & 3);
        Assert.Equal(3, back.Id & 3);
    }

    [Theory]
    [InlineData("webtransport")]
    [InlineData("qmux-00.moq-lite-04")]
    [InlineData("qmux-01.moq-lite-05")]
    public async Task LargeWriteArrivesIntact(string subprotocol)
    {
        await using var server = await EchoServer.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = await MoqWebSocketClient.ConnectAsync(
            server.Url("/"), new MoqWebSocketClientOptions { Subprotocols = [subprotocol] }, cts.Token);

        var payload = RandomNumberGenerator.GetBytes(1 << 20);
        var bidi = await client.OpenBidiAsync(cts.Token);
        var reading = QuicMoqConnectionTests.ReadToEndAsync(bidi.Recv, cts.Token);
        await bidi.Send.WriteAsync(payload, fin: true, cts.Token);
        Assert.Equal(payload, await reading);
    }

    [Fact]
    public async Task DefaultOfferLandsOnQmux00Lite05()
    {
        await using var server = await EchoServer.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = await MoqWebSocketClient.ConnectAsync(server.Url("/anon/room?jwt=abc"), cancellationToken: cts.Token);
        Assert.Equal("moq-lite-05", client.ApplicationProtocol);
        Assert.Equal("websocket/qmux-00", client.TransportName);
        var accepted = await server.Accepted.Task.WaitAsync(cts.Token);
        Assert.Equal("/anon/room", accepted.Path);
        Assert.Equal("abc", accepted.Jwt);
        Assert.Equal("qmux-00.moq-lite-05", accepted.Subprotocol);
    }

    [Fact]
    public async Task NoOfferRunsLegacyFraming()
    {
        await using var server = await EchoServer.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = await MoqWebSocketClient.ConnectAsync(
            server.Url("/"), new MoqWebSocketClientOptions { Subprotocols = [] }, cts.Token);
        Assert.Null(client.ApplicationProtocol);
        Assert.Equal("websocket/webtransport", client.TransportName);
        var bidi = await client.OpenBidiAsync(cts.Token);
        await bidi.Send.WriteAsync("legacy"u8.ToArray(), fin: true, cts.Token);
        Assert.Equal("legacy"u8.ToArray(), await QuicMoqConnectionTests.ReadToEndAsync(bidi.Recv, cts.Token));
        Assert.Null((await server.Accepted.Task.WaitAsync(cts.Token)).Subprotocol);
    }

    [Fact]
    public async Task RefusedUpgradeThrowsWithStatus()
    {
        await using var server = await EchoServer.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var error = await Assert.ThrowsAsync<WebSocketConnectException>(() => MoqWebSocketClient.ConnectAsync(
            server.Url("/"), new MoqWebSocketClientOptions { Subprotocols = ["qmux-01.moqt-20"] }, cts.Token));
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public async Task ClientCloseReachesTheServer()
    {
        await using var server = await EchoServer.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var client = await MoqWebSocketClient.ConnectAsync(
            server.Url("/"), new MoqWebSocketClientOptions { Subprotocols = ["qmux-00.moq-lite-04"] }, cts.Token);
        await server.Accepted.Task.WaitAsync(cts.Token);
        client.Close(0, "bye");
        var info = await server.ServerClosed.Task.WaitAsync(cts.Token);
        Assert.True(info.ByPeer);
        await client.DisposeAsync();
    }
}
