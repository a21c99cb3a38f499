using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;
using MoqCluster.Protocol.Tests.Transport;
using static MoqCluster.Protocol.Tests.Session.SessionPair;

namespace MoqCluster.Protocol.Tests.Session;

public class SessionTests
{
    public static TheoryData<MoqVersion> Versions => [MoqVersion.Lite01, MoqVersion.Lite02, MoqVersion.Lite03, MoqVersion.Lite04, MoqVersion.Lite05];

    public static TheoryData<MoqVersion, MoqVersion> VersionPairs
    {
        get
        {
            var data = new TheoryData<MoqVersion, MoqVersion>();
            foreach (var a in MoqVersions.All)
                foreach (var b in MoqVersions.All)
                    data.Add(a, b);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Client_publishes_and_server_receives_every_frame(MoqVersion version)
    {
        var published = new Origin();
        var learned = new Origin();
        var (client, server) = await StartAsync(version,
            new SessionOptions { Publish = published.Consumer() },
            new SessionOptions { Subscribe = learned.Producer() });
        await using var _ = client;
        await using var __ = server;
        Assert.Equal(version, client.Version);
        Assert.Equal(version, server.Version);

        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("seconds");
        using var feed = learned.Consumer().Announced();
        published.Publish("demo/clock", broadcast.Consume());
        var announced = await WaitActiveAsync(feed, "demo/clock");

        using var consumer = announced.Broadcast!.Subscribe("seconds");
        var publishing = PublishAsync(track, groups: 5, frames: 3);
        var groups = await ReadAsync(consumer, 5, 3);
        await publishing;
        // Groups travel on independent streams and may arrive in any order; frames within a group may not.
        Assert.Equal(new ulong[] { 0, 1, 2, 3, 4 }, groups.Select(g => g.Sequence).Order().ToArray());
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Server_publishes_and_client_discovers_and_consumes(MoqVersion version)
    {
        var origin = new Origin();
        var (client, server) = await StartAsync(version,
            new SessionOptions(),
            new SessionOptions { Publish = origin.Consumer() });
        await using var _ = client;
        await using var __ = server;

        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("video");
        origin.Publish("room/alice", broadcast.Consume());
        using var feed = client.Announced("room");
        var announced = await WaitActiveAsync(feed, "room/alice");
        Assert.NotEmpty(announced.Hops);

        using var consumer = client.Consume("room/alice").Subscribe("video");
        var publishing = PublishAsync(track, groups: 3, frames: 4, size: 20_000);
        await ReadAsync(consumer, 3, 4, size: 20_000);
        await publishing;

        broadcast.Finish();
        while (await feed.NextAsync().AsTask().WaitAsync(Guard) is { } change)
        {
            if (change.Path.Value == "room/alice" && !change.IsActive)
                return;
        }
        Assert.Fail("no ended announcement");
    }

    [Fact]
    public async Task A_group_stream_opens_with_its_first_frame_and_a_group_dropped_before_any_frame_opens_none()
    {
        var (c, s, _, serverTap) = TransportTestKit.Pair(QMuxWireFormat.Qmux01);
        var origin = new Origin();
        var accepting = MoqSession.AcceptAsync(s, new SessionOptions { Publish = origin.Consumer() });
        var connecting = MoqSession.ConnectAsync(c, new SessionOptions { Versions = [MoqVersion.Lite05] });
        await using var server = await accepting.WaitAsync(Guard);
        await using var client = await connecting.WaitAsync(Guard);
        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("video");
        origin.Publish("room/alice", broadcast.Consume());
        using var feed = client.Announced("room");
        await WaitActiveAsync(feed, "room/alice");
        using var consumer = client.Consume("room/alice").Subscribe("video");

        var frame = new byte[100];
        var first = track.AppendGroup(0);
        first.WriteFrame(frame);
        first.Finish();
        using var zero = (await consumer.NextGroupAsync().AsTask().WaitAsync(Guard))!;
        Assert.Equal(0UL, zero.Sequence);
        // Dropped before its first frame: nothing of it may reach the wire, not even a stream that is reset at once.
        track.AppendGroup(1).Abort(MoqErrorCode.Cancel);
        var last = track.AppendGroup(2);
        last.WriteFrame(frame);
        last.Finish();
        using var two = (await consumer.NextGroupAsync().AsTask().WaitAsync(Guard))!;
        Assert.Equal(2UL, two.Sequence);
        Assert.Equal(100, (await two.ReadFrameAsync().AsTask().WaitAsync(Guard))!.Value.Payload.Length);

        var uni = TransportTestKit.Frames(serverTap.Sent, QMuxWireFormat.Qmux01)
            .Where(f => f.Kind is QMuxFrameKind.Stream or QMuxFrameKind.ResetStream && (f.StreamId & 3) == 3)
            .ToList();
        Assert.DoesNotContain(uni, f => f.Kind == QMuxFrameKind.ResetStream);
        var opening = uni.Where(f => f.Offset == 0 && f.Data.Span[0] == (byte)UniStreamType.Group).ToList();
        Assert.Equal(2, opening.Select(f => f.StreamId).Distinct().Count());
        // The group header leaves in the same STREAM frame as the first frame, not in a send of its own.
        Assert.All(opening, f => Assert.True(f.Data.Length > frame.Length, $"stream {f.StreamId} opened with {f.Data.Length} bytes"));
    }

    [Theory]
    [MemberData(nameof(VersionPairs))]
    public async Task Relay_translates_between_versions(MoqVersion publisherVersion, MoqVersion subscriberVersion)
    {
        var relay = new Origin();
        var published = new Origin();
        var (pubClient, pubServer) = await StartAsync(publisherVersion,
            new SessionOptions { Publish = published.Consumer() },
            new SessionOptions { Subscribe = relay.Producer("anon"), Publish = relay.Consumer("anon") });
        var (subClient, subServer) = await StartAsync(subscriberVersion,
            new SessionOptions(),
            new SessionOptions { Subscribe = relay.Producer("anon"), Publish = relay.Consumer("anon") });
        await using var a = pubClient;
        await using var b = pubServer;
        await using var c = subClient;
        await using var d = subServer;

        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("video");
        published.Publish("cam", broadcast.Consume());
        using var feed = subClient.Announced();
        await WaitActiveAsync(feed, "cam");
        using var consumer = subClient.Consume("cam").Subscribe("video");
        // The subscriber starts at the latest group, wherever the relay's upstream joined: publish until it has 4.
        using var stop = new CancellationTokenSource();
        var publishing = PublishContinuouslyAsync(track, frames: 2, timestampStep: 33, stop.Token);
        // Groups are independent streams and may arrive out of order (newer first) on a loaded machine: read until the
        // first four from where the subscriber joined have all arrived. A lost group never does, and the read times out.
        var groups = new List<(ulong Sequence, List<Frame> Frames)>();
        while (groups.Count < 4 || !Enumerable.Range(0, 4).All(i => groups.Any(g => g.Sequence == groups.Min(m => m.Sequence) + (ulong)i)))
        {
            Assert.True(groups.Count < 40, "four consecutive groups never arrived");
            groups.AddRange(await ReadAsync(consumer, 1, 2));
        }
        await stop.CancelAsync();
        await publishing;
        groups = [.. groups.OrderBy(g => g.Sequence)];
        if (publisherVersion == MoqVersion.Lite05 && subscriberVersion == MoqVersion.Lite05)
            Assert.Equal(33, groups[0].Frames[1].Timestamp - groups[0].Frames[0].Timestamp);
    }

    [Fact]
    public async Task Many_local_subscribers_share_one_upstream_subscription()
    {
        var published = new Origin();
        var learned = new Origin();
        var observer = new CountingObserver();
        var (client, server) = await StartAsync(MoqVersion.Lite04,
            new SessionOptions { Publish = published.Consumer() },
            new SessionOptions { Subscribe = learned.Producer(), Observer = observer });
        await using var _ = client;
        await using var __ = server;
        var broadcast = new BroadcastProducer();
        var track = broadcast.CreateTrack("video");
        using var feed = learned.Consumer().Announced();
        published.Publish("x", broadcast.Consume());
        var announced = await WaitActiveAsync(feed, "x");
        var consumers = Enumerable.Range(0, 20).Select(_ => announced.Broadcast!.Subscribe("video")).ToList();
        var publishing = PublishAsync(track, 2, 2);
        foreach (var consumer in consumers)
            await ReadAsync(consumer, 2, 2);
        await publishing;
        Assert.Equal(1, observer.PeakUpstream);
        consumers.ForEach(c => c.Dispose());
    }

    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    [InlineData(MoqVersion.Lite05)]
    public async Task Unknown_bidi_stream_type_resets_only_that_stream(MoqVersion version)
    {
        var origin = new Origin();
        var (client, server) = Connections(version);
        var serverSession = await AcceptRawAsync(version, client, server, new SessionOptions { Publish = origin.Consumer() });
        await using var _ = serverSession;
        var stream = await client.OpenBidiAsync();
        await stream.Send.WriteAsync(new byte[] { 0x30, 1, 2, 3 });
        var ex = await Assert.ThrowsAsync<StreamAbortedException>(() => stream.Recv.ReadAsync(new byte[16]).AsTask().WaitAsync(Guard));
        Assert.Equal((ulong)MoqErrorCode.UnexpectedStream, ex.Code);
        Assert.False(serverSession.Closed.IsCompleted);
    }

    [Fact]
    public async Task Duplicate_active_announce_on_lite04_closes_the_session_with_duplicate()
    {
        var learned = new Origin();
        var (client, server) = Connections(MoqVersion.Lite04);
        var serverSession = await AcceptRawAsync(MoqVersion.Lite04, client, server, new SessionOptions { Subscribe = learned.Producer() });
        await using var _ = serverSession;
        var announce = (await client.AcceptBidiAsync().AsTask().WaitAsync(Guard))!;
        var buffer = new byte[64];
        await announce.Recv.ReadAsync(buffer);
        using var writer = new MessageWriter();
        MessageCodec.Encode(writer, new Announce(AnnounceStatus.Active, "cam", [7]), MoqVersion.Lite04);
        MessageCodec.Encode(writer, new Announce(AnnounceStatus.Active, "cam", [7]), MoqVersion.Lite04);
        await announce.Send.WriteAsync(writer.WrittenMemory);
        var closed = await serverSession.Closed.WaitAsync(Guard);
        Assert.Equal((ulong)MoqErrorCode.Duplicate, closed.Code);
    }

    [Fact]
    public async Task Duplicate_active_announce_on_lite05_replaces_the_broadcast()
    {
        var learned = new Origin();
        var (client, server) = Connections(MoqVersion.Lite05);
        var serverSession = await AcceptRawAsync(MoqVersion.Lite05, client, server, new SessionOptions { Subscribe = learned.Producer() });
        await using var _ = serverSession;
        using var feed = learned.Consumer().Announced();
        var announce = (await client.AcceptBidiAsync().AsTask().WaitAsync(Guard))!;
        await announce.Recv.ReadAsync(new byte[64]);
        using var writer = new MessageWriter();
        MessageCodec.Encode(writer, new AnnounceOk(5, 0), MoqVersion.Lite05);
        MessageCodec.Encode(writer, new Announce(AnnounceStatus.Active, "cam"), MoqVersion.Lite05);
        MessageCodec.Encode(writer, new Announce(AnnounceStatus.Active, "cam"), MoqVersion.Lite05);
        await announce.Send.WriteAsync(writer.WrittenMemory);
        var first = await WaitActiveAsync(feed, "cam");
        var second = await WaitActiveAsync(feed, "cam");
        Assert.NotSame(first.Broadcast!.Producer, second.Broadcast!.Producer);
        Assert.False(serverSession.Closed.IsCompleted);
    }

    [Fact]
    public async Task Group_for_an_unknown_subscribe_id_is_stopped_with_not_found()
    {
        var (client, server) = Connections(MoqVersion.Lite04);
        var serverSession = await AcceptRawAsync(MoqVersion.Lite04, client, server, new SessionOptions { Subscribe = new Origin().Producer() });
        await using var _ = serverSession;
        var uni = await client.OpenUniAsync();
        using var writer = new MessageWriter();
        writer.WriteVarInt(0UL);
        MessageCodec.Encode(writer, new GroupHeader(99, 0), MoqVersion.Lite04);
        writer.WriteBytes([5, 1, 2, 3, 4, 5]);
        await uni.WriteAsync(writer.WrittenMemory);
        Assert.Equal((ulong)MoqErrorCode.NotFound, await uni.Stopped.WaitAsync(Guard));
        Assert.False(serverSession.Closed.IsCompleted);
    }

    [Fact]
    public async Task Legacy_setup_without_a_lite_version_is_refused_with_version()
    {
        var (client, server) = Connections(MoqVersion.Lite02);
        var accepting = MoqSession.AcceptAsync(server, new SessionOptions());
        var stream = await client.OpenBidiAsync();
        using var writer = new MessageWriter();
        new ClientSetup([MoqVersions.IetfDraft14], []).Encode(writer);
        await stream.Send.WriteAsync(writer.WrittenMemory);
        var ex = await Assert.ThrowsAsync<ProtocolException>(() => accepting.WaitAsync(Guard));
        Assert.Equal(MoqErrorCode.Version, ex.Code);
        Assert.Equal((ulong)MoqErrorCode.Version, (await server.Closed.WaitAsync(Guard)).Code);
    }

    [Fact]
    public async Task Subscribe_to_a_missing_broadcast_is_reset_with_not_found()
    {
        var (client, server) = await StartAsync(MoqVersion.Lite04, new SessionOptions(), new SessionOptions { Publish = new Origin().Consumer() });
        await using var _ = client;
        await using var __ = server;
        using var consumer = client.Consume("nothing").Subscribe("video");
        var ex = await Assert.ThrowsAsync<ProtocolException>(() => consumer.NextGroupAsync().AsTask().WaitAsync(Guard));
        Assert.Equal(MoqErrorCode.NotFound, ex.Code);
    }

    private static async Task<MoqSession> AcceptRawAsync(MoqVersion version, IMoqConnection client, IMoqConnection server, SessionOptions options)
    {
        _ = client;
        Assert.False(version.UsesLegacySetup());
        if (version.HasSetupStream())
        {
            // A raw lite-05 peer must send its SETUP before the server serves anything.
            var setup = await client.OpenUniAsync();
            using var writer = new MessageWriter();
            writer.WriteVarInt((ulong)UniStreamType.Setup);
            MessageCodec.Encode(writer, new Setup { Origin = 42 }, version);
            await setup.WriteAsync(writer.WrittenMemory, fin: true);
        }
        return await MoqSession.AcceptAsync(server, options).WaitAsync(Guard);
    }

    private sealed class CountingObserver : ISessionObserver
    {
        private int _upstream;
        public int PeakUpstream;

        public void UpstreamSubscriptions(int delta)
        {
            var now = Interlocked.Add(ref _upstream, delta);
            int peak;
            do
            {
                peak = PeakUpstream;
            }
            while (now > peak && Interlocked.CompareExchange(ref PeakUpstream, now, peak) != peak);
        }
    }
}
