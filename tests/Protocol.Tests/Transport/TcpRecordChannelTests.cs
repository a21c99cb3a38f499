using System.Net;
using System.Net.Sockets;
using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Transport.TransportTestKit;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>The TCP record layer on real loopback sockets: batched records, their prefixes, and the bounds.</summary>
public class TcpRecordChannelTests
{
    [Fact]
    public async Task BatchedRecords_ArriveSeparatelyInOrder_InOneWrite()
    {
        var (client, server) = await ConnectAsync();
        await using var _ = client;
        await using var __ = server;
        int[] sizes = [0, 1, 63, 64, 16383, 16384, 65536, 5];
        foreach (var size in sizes)
        {
            RandomBytes(size, seed: size).CopyTo(client.GetRecordSpan(size));
            client.CommitRecord(size);
        }
        // Empty records commit nothing; every other record costs its 4-byte prefix.
        Assert.Equal(sizes.Where(s => s > 0).Sum(s => s + 4), client.PendingBytes);
        await client.FlushAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(0, client.PendingBytes);

        foreach (var size in sizes.Where(s => s > 0))
        {
            var record = await server.ReceiveAsync().AsTask().WaitAsync(Guard);
            Assert.Equal(RandomBytes(size, seed: size), record!.Value.ToArray());
        }
        await client.CloseAsync(0, "");
        Assert.Null(await server.ReceiveAsync().AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task MinimalAndFourBytePrefixes_AreBothAccepted()
    {
        var (raw, server) = await ConnectRawAsync(TcpRecordChannel.DefaultMaxRecordSize);
        using var _ = raw;
        await using var __ = server;
        // A peer using minimal varints (1 and 2 bytes) and one using a non-minimal 4-byte prefix (RFC 9000 §16).
        byte[] bytes = [0x03, 1, 2, 3, 0x40, 0x02, 9, 9, 0x80, 0, 0, 1, 7];
        await raw.SendAsync(bytes);
        Assert.Equal([1, 2, 3], (await server.ReceiveAsync().AsTask().WaitAsync(Guard))!.Value.ToArray());
        Assert.Equal([9, 9], (await server.ReceiveAsync().AsTask().WaitAsync(Guard))!.Value.ToArray());
        Assert.Equal([7], (await server.ReceiveAsync().AsTask().WaitAsync(Guard))!.Value.ToArray());
    }

    [Fact]
    public async Task OversizedRecords_AreRefusedBothWays()
    {
        var (client, peer) = await ConnectAsync(maxRecordSize: 1000);
        await using var ___ = client;
        await using var ____ = peer;
        Assert.Throws<ArgumentOutOfRangeException>(() => client.GetRecordSpan(1001));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(new byte[1001]).AsTask());

        var (raw, server) = await ConnectRawAsync(1000);
        using var _ = raw;
        await using var __ = server;
        await raw.SendAsync(new byte[] { 0x44, 0x00 }); // claims 1024 bytes
        await Assert.ThrowsAsync<ConnectionClosedException>(() => server.ReceiveAsync().AsTask().WaitAsync(Guard));
    }

    /// <summary>A raw client socket and the server channel reading what it sends.</summary>
    private static async Task<(Socket Raw, TcpRecordChannel Server)> ConnectRawAsync(int maxRecordSize)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).WaitAsync(Guard);
        var accepted = await listener.AcceptSocketAsync().WaitAsync(Guard);
        return (raw, new TcpRecordChannel(accepted, maxRecordSize));
    }

    /// <summary>Two channels over one loopback connection.</summary>
    private static async Task<(TcpRecordChannel Client, TcpRecordChannel Server)> ConnectAsync(int maxRecordSize = TcpRecordChannel.DefaultMaxRecordSize)
    {
        var (raw, server) = await ConnectRawAsync(maxRecordSize);
        return (new TcpRecordChannel(raw, maxRecordSize), server);
    }
}
