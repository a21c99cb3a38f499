using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Session.SessionPair;

namespace MoqCluster.Protocol.Tests.Session;

/// <summary>
/// The pitfalls of spec §8 that concern sessions, each driven by a raw peer that writes and reads bytes
/// the way the npm clients do.
/// </summary>
public class SessionPitfallTests
{
    private static async Task<(IMoqConnection Raw, MoqSession Server)> ServerAsync(MoqVersion version, SessionOptions options)
    {
        var (client, server) = Connections(version);
        if (version.HasSetupStream())
        {
            var setup = await client.OpenUniAsync();
            using var writer = new MessageWriter();
            writer.WriteVarInt((ulong)UniStreamType.Setup);
            MessageCodec.Encode(writer, new Setup { Origin = 77 }, version);
            await setup.WriteAsync(writer.WrittenMemory, fin: true);
        }
        return (client, await MoqSession.AcceptAsync(server, options).WaitAsync(Guard));
    }

    private static async Task<IBidiStream> OpenAsync<T>(IMoqConnection raw, StreamType type, T message, MoqVersion version, bool fin = false) where T : IMessage<T>
    {
        var stream = await raw.OpenBidiAsync();
        using var writer = new MessageWriter();
        writer.WriteVarInt((ulong)type);
        MessageCodec.Encode(writer, message, version);
        await stream.Send.WriteAsync(writer.WrittenMemory, fin);
        return stream;
    }

    private static (Origin Origin, TrackProducer Track, BroadcastProducer Broadcast) Published(string path, IReadOnlyList<ulong>? hops = null)
    {
        var origin = new Origin();
        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("video");
        origin.Publish(path, broadcast.Consume(), hops);
        return (origin, track, broadcast);
    }

    [Fact]
    public async Task Lite03_probe_stream_is_kept_open_and_never_reset()
    {
        var (raw, server) = await ServerAsync(MoqVersion.Lite03, new SessionOptions { Publish = new Origin().Consumer() });
        await using var _ = server;
        var probe = await raw.OpenBidiAsync();
        await probe.Send.WriteAsync(new byte[] { (byte)StreamType.Probe });
        var read = probe.Recv.ReadAsync(new byte[8]).AsTask();
        await Task.Delay(200);
        Assert.False(read.IsCompleted); // neither data, FIN nor reset
        server.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => read.WaitAsync(Guard));
    }

    [Fact]
    public async Task Lite05_probe_stream_is_reset_because_reports_are_not_advertised()
    {
        var (raw, server) = await ServerAsync(MoqVersion.Lite05, new SessionOptions { Publish = new Origin().Consumer() });
        await using var _ = server;
        var probe = await raw.OpenBidiAsync();
        await probe.Send.WriteAsync(new byte[] { (byte)StreamType.Probe });
        await Assert.ThrowsAsync<StreamAbortedException>(() => probe.Recv.ReadAsync(new byte[8]).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task Lite02_session_stream_stays_open_after_server_setup()
    {
        var (client, serverConnection) = Connections(MoqVersion.Lite02);
        var accepting = MoqSession.AcceptAsync(serverConnection, new SessionOptions());
        var stream = await client.OpenBidiAsync();
        using (var writer = new MessageWriter())
        {
            new ClientSetup([(ulong)MoqVersion.Lite02, (ulong)MoqVersion.Lite01, MoqVersions.IetfDraft14], []).Encode(writer);
            await stream.Send.WriteAsync(writer.WrittenMemory);
        }
        await using var server = await accepting.WaitAsync(Guard);
        Assert.Equal(MoqVersion.Lite02, server.Version);
        var buffer = new byte[64];
        var n = await stream.Recv.ReadAsync(buffer).AsTask().WaitAsync(Guard);
        Assert.Equal(Convert.FromHexString("2100 09c0000000ff0dad0200".Replace(" ", "")), buffer[..n]);
        var more = stream.Recv.ReadAsync(buffer).AsTask();
        await Task.Delay(200);
        Assert.False(more.IsCompleted);
    }

    [Fact]
    public async Task Lite05_empty_announce_request_gets_announce_ok_zero_and_stays_open()
    {
        var (raw, server) = await ServerAsync(MoqVersion.Lite05, new SessionOptions { Publish = new Origin().Consumer("", ["visible"]) });
        await using var _ = server;
        var stream = await OpenAsync(raw, StreamType.Announce, new AnnouncePlease("hidden"), MoqVersion.Lite05);
        using var reader = new MoqStreamReader(stream.Recv, ProtocolLimits.Default);
        var ok = await reader.ReadMessageAsync<AnnounceOk>(MoqVersion.Lite05).AsTask().WaitAsync(Guard);
        Assert.Equal(0, ok.ActiveCount);
        Assert.Equal(server.Options.OriginId, ok.HopId);
        var next = reader.IsFinishedAsync().AsTask();
        await Task.Delay(200);
        Assert.False(next.IsCompleted);
    }

    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    public async Task Lite03_04_subscribe_gets_exactly_one_subscribe_ok_then_fin_when_the_track_ends(MoqVersion version)
    {
        var (origin, track, _) = Published("cam");
        var (raw, server) = await ServerAsync(version, new SessionOptions { Publish = origin.Consumer() });
        await using var _s = server;
        var stream = await OpenAsync(raw, StreamType.Subscribe, new Subscribe(0, "cam", "video", 9), version);
        using var reader = new MoqStreamReader(stream.Recv, ProtocolLimits.Default);
        var (type, body) = (await reader.TryReadTypedAsync().AsTask().WaitAsync(Guard))!.Value;
        Assert.Equal(0UL, type);
        var ok = MessageCodec.Decode<SubscribeOk>(body.Span, version);
        Assert.Equal(new SubscribeOk(9), ok);
        track.Finish();
        Assert.True(await reader.IsFinishedAsync().AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task Lite05_subscribe_reports_start_then_exclusive_end()
    {
        var (origin, track, _) = Published("cam");
        var (raw, server) = await ServerAsync(MoqVersion.Lite05, new SessionOptions { Publish = origin.Consumer() });
        await using var _s = server;
        var stream = await OpenAsync(raw, StreamType.Subscribe, new Subscribe(3, "cam", "video", 1), MoqVersion.Lite05);
        using var reader = new MoqStreamReader(stream.Recv, ProtocolLimits.Default);
        while (track.ConsumerCount == 0)
            await Task.Delay(5);
        track.AppendGroup(4).Finish();
        track.AppendGroup(5).Finish();
        track.Finish();
        var (t1, b1) = (await reader.TryReadTypedAsync().AsTask().WaitAsync(Guard))!.Value;
        Assert.Equal(0UL, t1);
        Assert.Equal(new SubscribeStart(4), MessageCodec.Decode<SubscribeStart>(b1.Span, MoqVersion.Lite05));
        var (t2, b2) = (await reader.TryReadTypedAsync().AsTask().WaitAsync(Guard))!.Value;
        Assert.Equal(1UL, t2);
        Assert.Equal(new SubscribeEnd(6), MessageCodec.Decode<SubscribeEnd>(b2.Span, MoqVersion.Lite05));
        Assert.True(await reader.IsFinishedAsync().AsTask().WaitAsync(Guard));
        // Both groups arrived as uni streams carrying subscribe id 3 (the server's SETUP stream is skipped).
        var groups = new List<ulong>();
        while (groups.Count < 2)
        {
            var uni = (await raw.AcceptUniAsync().AsTask().WaitAsync(Guard))!;
            using var uniReader = new MoqStreamReader(uni, ProtocolLimits.Default);
            if (await uniReader.ReadVarIntAsync() == (ulong)UniStreamType.Setup)
                continue;
            var header = await uniReader.ReadMessageAsync<GroupHeader>(MoqVersion.Lite05);
            Assert.Equal(3UL, header.SubscribeId);
            groups.Add(header.Sequence);
        }
        Assert.Equal([4UL, 5UL], groups.Order());
    }

    [Fact]
    public async Task Lite05_track_info_has_a_non_zero_timescale()
    {
        var (origin, _, _) = Published("cam");
        var (raw, server) = await ServerAsync(MoqVersion.Lite05, new SessionOptions { Publish = origin.Consumer() });
        await using var _s = server;
        var stream = await OpenAsync(raw, StreamType.Track, new TrackRequest("cam", "video"), MoqVersion.Lite05, fin: true);
        using var reader = new MoqStreamReader(stream.Recv, ProtocolLimits.Default);
        var info = await reader.ReadMessageAsync<MoqCluster.Protocol.Messages.TrackInfo>(MoqVersion.Lite05).AsTask().WaitAsync(Guard);
        Assert.Equal(1000UL, info.Timescale);
        Assert.Equal(5000UL, info.MaxLatencyMs);
        Assert.True(await reader.IsFinishedAsync().AsTask().WaitAsync(Guard));
    }

    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    public async Task Fetch_below_lite05_is_reset(MoqVersion version)
    {
        var (origin, _, _) = Published("cam");
        var (raw, server) = await ServerAsync(version, new SessionOptions { Publish = origin.Consumer() });
        await using var _s = server;
        var stream = await raw.OpenBidiAsync();
        await stream.Send.WriteAsync(new byte[] { (byte)StreamType.Fetch, 0 });
        await Assert.ThrowsAsync<StreamAbortedException>(() => stream.Recv.ReadAsync(new byte[8]).AsTask().WaitAsync(Guard));
        Assert.False(server.Closed.IsCompleted);
    }

    [Fact]
    public async Task Lite05_fetch_returns_the_cached_group_with_timestamps()
    {
        var (origin, track, _) = Published("cam");
        var group = track.AppendGroup(2);
        group.WriteFrame(new byte[] { 1 }, 1000);
        group.WriteFrame(new byte[] { 2 }, 1033);
        group.Finish();
        var (raw, server) = await ServerAsync(MoqVersion.Lite05, new SessionOptions { Publish = origin.Consumer() });
        await using var _s = server;
        var stream = await OpenAsync(raw, StreamType.Fetch, new Fetch("cam", "video", 0, 2), MoqVersion.Lite05, fin: true);
        var bytes = new List<byte>();
        var buffer = new byte[64];
        int n;
        while ((n = await stream.Recv.ReadAsync(buffer).AsTask().WaitAsync(Guard)) > 0)
            bytes.AddRange(buffer[..n]);
        Assert.Equal(Convert.FromHexString("47D0010140420102"), bytes.ToArray());
    }

    [Fact]
    public async Task Lite04_exclude_hop_hides_broadcasts_that_came_through_the_requester()
    {
        var origin = new Origin();
        origin.Publish("mine", new BroadcastProducer().Consume(), [555]);
        origin.Publish("theirs", new BroadcastProducer().Consume(), [777]);
        var (raw, server) = await ServerAsync(MoqVersion.Lite04, new SessionOptions { Publish = origin.Consumer(), OriginId = 42 });
        await using var _s = server;
        var stream = await OpenAsync(raw, StreamType.Announce, new AnnouncePlease("", 555), MoqVersion.Lite04);
        using var reader = new MoqStreamReader(stream.Recv, ProtocolLimits.Default);
        var announce = await reader.ReadMessageAsync<Announce>(MoqVersion.Lite04).AsTask().WaitAsync(Guard);
        Assert.Equal("theirs", announce.Suffix.Value);
        Assert.Equal([777UL, 42UL], announce.Hops); // lite-04: the sender appends its own origin
        var more = reader.TryReadBodyAsync().AsTask();
        await Task.Delay(200);
        Assert.False(more.IsCompleted);
    }

    [Fact]
    public async Task Lite04_replacement_is_announced_as_ended_then_active()
    {
        var origin = new Origin();
        origin.Publish("cam", new BroadcastProducer().Consume(), [1]);
        var (raw, server) = await ServerAsync(MoqVersion.Lite04, new SessionOptions { Publish = origin.Consumer() });
        await using var _s = server;
        var stream = await OpenAsync(raw, StreamType.Announce, new AnnouncePlease(""), MoqVersion.Lite04);
        using var reader = new MoqStreamReader(stream.Recv, ProtocolLimits.Default);
        Assert.Equal(AnnounceStatus.Active, (await reader.ReadMessageAsync<Announce>(MoqVersion.Lite04).AsTask().WaitAsync(Guard)).Status);
        origin.Publish("cam", new BroadcastProducer().Consume(), [2]);
        Assert.Equal(AnnounceStatus.Ended, (await reader.ReadMessageAsync<Announce>(MoqVersion.Lite04).AsTask().WaitAsync(Guard)).Status);
        var again = await reader.ReadMessageAsync<Announce>(MoqVersion.Lite04).AsTask().WaitAsync(Guard);
        Assert.Equal(AnnounceStatus.Active, again.Status);
        Assert.Equal(2UL, again.Hops[0]);
    }

    [Fact]
    public void Origin_ids_stay_below_2_pow_53()
    {
        for (var i = 0; i < 10_000; i++)
        {
            var id = SessionOptions.NewOriginId();
            Assert.InRange(id, 1UL, VarInt.MaxSafeInteger);
        }
    }
}

/// <summary>Random bytes on new streams cost only those streams: the session keeps serving.</summary>
public class SessionGarbageTests
{
    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    [InlineData(MoqVersion.Lite05)]
    public async Task Garbage_on_bidi_and_uni_streams_never_kills_the_session(MoqVersion version)
    {
        var origin = new Origin();
        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("video");
        origin.Publish("cam", broadcast.Consume());
        var (client, serverConnection) = Connections(version);
        var serverTask = MoqSession.AcceptAsync(serverConnection, new SessionOptions { Publish = origin.Consumer(), Subscribe = new Origin().Producer() });
        await using var clientSession = await MoqSession.ConnectAsync(client, new SessionOptions { Versions = [version] }).WaitAsync(Guard);
        await using var server = await serverTask.WaitAsync(Guard);

        var random = new Random(1234);
        for (var i = 0; i < 60; i++)
        {
            var garbage = new byte[random.Next(1, 200)];
            random.NextBytes(garbage);
            // Keep away from the stream types whose garbage is a session-level violation by design (none on new streams),
            // and from a second lite-05 SETUP, which is one.
            if (garbage[0] == (byte)UniStreamType.Setup)
                garbage[0] = 0x3f;
            if (i % 2 == 0)
            {
                var bidi = await client.OpenBidiAsync();
                await bidi.Send.WriteAsync(garbage, fin: random.Next(2) == 0);
            }
            else
            {
                var uni = await client.OpenUniAsync();
                await uni.WriteAsync(garbage, fin: random.Next(2) == 0);
            }
        }

        using var consumer = clientSession.Consume("cam").Subscribe("video");
        var publishing = PublishAsync(track, 2, 2);
        await ReadAsync(consumer, 2, 2);
        await publishing;
        Assert.False(server.Closed.IsCompleted);
    }
}
