using System.Net;
using System.Net.Sockets;
using System.Text;
using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Transport.TransportTestKit;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>QMux over real loopback TCP sockets.</summary>
public class QMuxTcpTests
{
    [Fact]
    public async Task BidiEcho()
    {
        await using var listener = new QMuxTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Start();
        var accept = listener.AcceptAsync();
        await using var client = await QMuxTcpClient.ConnectAsync(listener.LocalEndPoint).WaitAsync(Guard);
        await using var server = await accept.WaitAsync(Guard);

        Assert.True(client.IsUrlLess);
        Assert.Equal("moq-lite-05", server.ApplicationProtocol);
        Assert.Equal(QMuxWireFormat.Qmux01, server.WireFormat);

        var echo = Task.Run(async () =>
        {
            var bidi = await server.AcceptBidiAsync().AsTask().WaitAsync(Guard);
            var request = await ReadToEndAsync(bidi!.Recv);
            await bidi.Send.WriteAsync(request, fin: true);
        });
        var stream = await client.OpenBidiAsync().AsTask().WaitAsync(Guard);
        await stream.Send.WriteAsync("echo me"u8.ToArray(), fin: true);
        Assert.Equal("echo me", Encoding.UTF8.GetString(await ReadToEndAsync(stream.Recv)));
        await echo.WaitAsync(Guard);

        client.Close(0, "done");
        Assert.Equal(new ConnectionCloseInfo(0, "done", ByPeer: true), await server.Closed.WaitAsync(Guard));
        await client.Completion.WaitAsync(Guard);
    }

    [Fact]
    public async Task MultiStreamTransfer_BothDirections()
    {
        await using var listener = new QMuxTcpListener(new IPEndPoint(IPAddress.Loopback, 0), new QMuxOptions { InitialMaxStreamsUni = 4 });
        listener.Start();
        var accept = listener.AcceptAsync();
        await using var client = await QMuxTcpClient.ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port).WaitAsync(Guard);
        await using var server = await accept.WaitAsync(Guard);
        const int streams = 12;
        const int size = 300_000;

        async Task<long[]> ReceiveAll(QMuxConnection connection)
        {
            var readers = new List<Task<long>>();
            for (int i = 0; i < streams; i++)
            {
                var uni = await connection.AcceptUniAsync().AsTask().WaitAsync(Guard);
                readers.Add(Task.Run(async () =>
                {
                    Assert.Equal(RandomBytes(size, seed: (int)uni!.Id), await ReadToEndAsync(uni, 7000));
                    return uni.Id;
                }));
            }
            return await Task.WhenAll(readers);
        }

        async Task SendAll(QMuxConnection connection) =>
            await Task.WhenAll(Enumerable.Range(0, streams).Select(_ => Task.Run(async () =>
            {
                var uni = await connection.OpenUniAsync().AsTask().WaitAsync(Guard);
                await uni.WriteAsync(RandomBytes(size, seed: (int)uni.Id), fin: true);
            })));

        var serverReceives = ReceiveAll(server);
        var clientReceives = ReceiveAll(client);
        await Task.WhenAll(SendAll(client), SendAll(server)).WaitAsync(Guard);
        Assert.Equal(streams, (await serverReceives.WaitAsync(Guard)).Distinct().Count());
        Assert.Equal(streams, (await clientReceives.WaitAsync(Guard)).Distinct().Count());
    }

    [Fact]
    public async Task RecordChannel_RejectsOversizedRecord()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync((IPEndPoint)listener.LocalEndpoint).WaitAsync(Guard);
        await using var channel = new TcpRecordChannel(await listener.AcceptSocketAsync().WaitAsync(Guard), maxRecordSize: 1024);

        await raw.SendAsync(Hex.Bytes("03 61 62 63"));
        var record = await channel.ReceiveAsync().AsTask().WaitAsync(Guard);
        Assert.Equal("abc"u8.ToArray(), record!.Value.ToArray());

        await raw.SendAsync(Hex.Bytes("48 00")); // 2048 > 1024
        var error = await Assert.ThrowsAsync<ConnectionClosedException>(() => channel.ReceiveAsync().AsTask().WaitAsync(Guard));
        Assert.Equal(QMuxTransportError.FrameEncodingError, error.Code);
    }

    [Fact]
    public async Task RecordChannel_SplitsAndJoinsAcrossReads()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync((IPEndPoint)listener.LocalEndpoint).WaitAsync(Guard);
        await using var channel = new TcpRecordChannel(await listener.AcceptSocketAsync().WaitAsync(Guard));

        var big = RandomBytes(40_000);
        var prefix = new byte[4];
        MoqCluster.Protocol.Coding.VarInt.Write(prefix, (ulong)big.Length);
        // Send the prefix byte by byte, the body in two halves, then an empty record.
        foreach (var b in prefix[..MoqCluster.Protocol.Coding.VarInt.SizeOf((ulong)big.Length)])
            await raw.SendAsync(new[] { b });
        await raw.SendAsync(big.AsMemory(0, 20_000));
        await raw.SendAsync(big.AsMemory(20_000));
        await raw.SendAsync(new byte[] { 0 });
        Assert.Equal(big, (await channel.ReceiveAsync().AsTask().WaitAsync(Guard))!.Value.ToArray());
        Assert.Equal(0, (await channel.ReceiveAsync().AsTask().WaitAsync(Guard))!.Value.Length);
        raw.Shutdown(SocketShutdown.Send);
        Assert.Null(await channel.ReceiveAsync().AsTask().WaitAsync(Guard));
    }
}
