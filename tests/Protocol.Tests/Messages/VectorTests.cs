using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using static MoqCluster.Protocol.Tests.Messages.Wire;

namespace MoqCluster.Protocol.Tests.Messages;

/// <summary>Every byte-level test vector of spec §7.2, both encoded and decoded.</summary>
public class VectorTests
{
    private const ulong AnnounceStream = (ulong)StreamType.Announce;
    private const ulong SubscribeStream = (ulong)StreamType.Subscribe;

    // V1 — ANNOUNCE_PLEASE
    [Theory]
    [InlineData(MoqVersion.Lite01)]
    [InlineData(MoqVersion.Lite02)]
    [InlineData(MoqVersion.Lite03)]
    public void V1_AnnouncePlease_WithoutExcludeHop(MoqVersion version)
        => Vector(new AnnouncePlease("demo"), version, "01 05 04 64 65 6d 6f", AnnounceStream);

    [Theory]
    [InlineData(MoqVersion.Lite04)]
    [InlineData(MoqVersion.Lite05)]
    public void V1_AnnouncePlease_WithExcludeHop(MoqVersion version)
    {
        Vector(new AnnouncePlease("demo", 0), version, "01 06 04 64 65 6d 6f 00", AnnounceStream);
        Vector(new AnnouncePlease("demo", 0x1234), version, "07 04 64 65 6d 6f 52 34");
    }

    // V2 — ANNOUNCE / ANNOUNCE_OK / ANNOUNCE_INIT
    [Fact]
    public void V2_Announce_Active_PerVersion()
    {
        Vector(new Announce(AnnounceStatus.Active, "clock"), MoqVersion.Lite02, "07 01 05 63 6c 6f 63 6b");
        Vector(new Announce(AnnounceStatus.Active, "clock", hopCount: 1), MoqVersion.Lite03, "08 01 05 63 6c 6f 63 6b 01");
        Vector(new Announce(AnnounceStatus.Active, "clock", [0x1234]), MoqVersion.Lite04, "0a 01 05 63 6c 6f 63 6b 01 52 34");
        Vector(new Announce(AnnounceStatus.Active, "clock"), MoqVersion.Lite05, "08 01 05 63 6c 6f 63 6b 00");
    }

    [Fact]
    public void V2_Announce_FullPathSuffix_Lite04()
    {
        Vector(new Announce(AnnounceStatus.Active, "demo/clock", [0x1234]), MoqVersion.Lite04, "0f 01 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 01 52 34");
        var decoded = Decode<Announce>("0f 01 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 01 52 34", MoqVersion.Lite04);
        Assert.Equal(AnnounceStatus.Active, decoded.Status);
        Assert.Equal("demo/clock", decoded.Suffix.Value);
        Assert.Equal([0x1234UL], decoded.Hops);
        Assert.Equal(1, decoded.HopCount);
    }

    [Fact]
    public void V2_Announce_Ended()
    {
        Vector(new Announce(AnnounceStatus.Ended, "clock"), MoqVersion.Lite02, "07 00 05 63 6c 6f 63 6b");
        foreach (var version in new[] { MoqVersion.Lite03, MoqVersion.Lite04, MoqVersion.Lite05 })
            Vector(new Announce(AnnounceStatus.Ended, "clock"), version, "08 00 05 63 6c 6f 63 6b 00");
    }

    [Fact]
    public void V2_AnnounceOk_Lite05()
    {
        Vector(new AnnounceOk(0x1234, 1), MoqVersion.Lite05, "03 52 34 01");
        var ok = Decode<AnnounceOk>("03 52 34 01", MoqVersion.Lite05);
        Assert.Equal(0x1234UL, ok.HopId);
        Assert.Equal(1, ok.ActiveCount);
    }

    [Fact]
    public void V2_AnnounceInit_Lite02_IsByteIdenticalToActiveAnnounce()
    {
        Vector(new AnnounceInit([(MoqPath)"clock"]), MoqVersion.Lite02, "07 01 05 63 6c 6f 63 6b");
        Assert.Equal(Encode(new Announce(AnnounceStatus.Active, "clock"), MoqVersion.Lite02), Encode(new AnnounceInit(["clock"]), MoqVersion.Lite02));
    }

    // V3 — SUBSCRIBE / SUBSCRIBE_UPDATE
    [Theory]
    [InlineData(MoqVersion.Lite01)]
    [InlineData(MoqVersion.Lite02)]
    public void V3_Subscribe_Legacy(MoqVersion version)
        => Vector(new Subscribe(0, "demo/clock", "seconds", 2), version,
            "02 15 00 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 07 73 65 63 6f 6e 64 73 02", SubscribeStream);

    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    [InlineData(MoqVersion.Lite05)]
    public void V3_Subscribe_WithOptions(MoqVersion version)
    {
        Vector(new Subscribe(0, "demo/clock", "seconds", 2), version,
            "02 19 00 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 07 73 65 63 6f 6e 64 73 02 00 00 00 00", SubscribeStream);
        Vector(new Subscribe(1, "demo/clock", "seconds", 2, Ordered: true, MaxLatencyMs: 5000, StartGroup: 7), version,
            "1a 01 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 07 73 65 63 6f 6e 64 73 02 01 53 88 08 00");
        var decoded = Decode<Subscribe>("1a 01 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 07 73 65 63 6f 6e 64 73 02 01 53 88 08 00", version);
        Assert.Equal(7UL, decoded.StartGroup);
        Assert.Null(decoded.EndGroup);
        Assert.Equal(5000UL, decoded.MaxLatencyMs);
        Assert.True(decoded.Ordered);
    }

    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    [InlineData(MoqVersion.Lite05)]
    public void V3_SubscribeUpdate(MoqVersion version) => Vector(new SubscribeUpdate(3), version, "05 03 00 00 00 00");

    // V4 — subscribe responses
    [Fact]
    public void V4_SubscribeOk_Lite02_IsZeroLengthMessage()
    {
        Assert.Equal("00", EncodeResponse(new SubscribeOk(), MoqVersion.Lite02));
        Assert.Equal(new SubscribeOk(), DecodeResponse("00", MoqVersion.Lite02));
    }

    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    public void V4_SubscribeOk_Typed(MoqVersion version)
    {
        Assert.Equal("00 05 02 00 00 00 00", EncodeResponse(new SubscribeOk(2), version));
        var ok = Assert.IsType<SubscribeOk>(DecodeResponse("00 05 02 00 00 00 00", version));
        Assert.Equal(new SubscribeOk(2, false, 0, null, null), ok);
    }

    [Fact]
    public void V4_Lite05_StartEndDrop()
    {
        Assert.Equal("00 01 05", EncodeResponse(new SubscribeStart(5), MoqVersion.Lite05));
        Assert.Equal("01 01 06", EncodeResponse(new SubscribeEnd(6), MoqVersion.Lite05));
        Assert.Equal("02 03 01 03 00", EncodeResponse(new SubscribeDrop(1, 3, 0), MoqVersion.Lite05));
        Assert.Equal(new SubscribeStart(5), DecodeResponse("00 01 05", MoqVersion.Lite05));
        Assert.Equal(new SubscribeEnd(6), DecodeResponse("01 01 06", MoqVersion.Lite05));
        Assert.Equal(new SubscribeDrop(1, 3, 0), DecodeResponse("02 03 01 03 00", MoqVersion.Lite05));
    }

    [Theory]
    [InlineData(MoqVersion.Lite03)]
    [InlineData(MoqVersion.Lite04)]
    public void V4_SubscribeDrop_Lite03And04(MoqVersion version)
    {
        Assert.Equal("01 03 01 03 00", EncodeResponse(new SubscribeDrop(1, 3, 0), version));
        Assert.Equal(new SubscribeDrop(1, 3, 0), DecodeResponse("01 03 01 03 00", version));
    }

    // V5 — GROUP header
    [Theory]
    [InlineData(MoqVersion.Lite01)]
    [InlineData(MoqVersion.Lite04)]
    [InlineData(MoqVersion.Lite05)]
    public void V5_GroupHeader(MoqVersion version)
    {
        Vector(new GroupHeader(0, 5), version, "00 02 00 05", (ulong)UniStreamType.Group);
        Span<byte> prefix = stackalloc byte[GroupHeader.MaxStreamPrefixSize];
        var n = new GroupHeader(0, 5).WriteStreamPrefix(prefix);
        Assert.Equal("00 02 00 05", Hex(prefix[..n]));
    }

    // V6 — frames
    [Fact]
    public void V6_Frame_Lite01To04()
    {
        foreach (var version in Where(v => v <= MoqVersion.Lite04))
            Assert.Equal("05 68 65 6c 6c 6f", Hex(WriteFrame(version, new FrameHeader(5), "hello")));
    }

    [Fact]
    public void V6_GroupStream_Lite04()
    {
        var stream = new List<byte>(Bytes(Encode(new GroupHeader(0, 5), MoqVersion.Lite04, 0)));
        stream.AddRange(WriteFrame(MoqVersion.Lite04, new FrameHeader(5), "hello"));
        stream.AddRange(WriteFrame(MoqVersion.Lite04, new FrameHeader(5), "world"));
        Assert.Equal("00 02 00 05 05 68 65 6c 6c 6f 05 77 6f 72 6c 64", Hex(stream.ToArray()));
        Assert.Equal(["hello", "world"], ReadGroupStream(stream.ToArray(), MoqVersion.Lite04).Select(f => f.Payload));
    }

    [Fact]
    public void V6_GroupStream_Lite05_WithTimestamps()
    {
        var stream = new List<byte>(Bytes(Encode(new GroupHeader(0, 5), MoqVersion.Lite05, 0)));
        stream.AddRange(WriteFrame(MoqVersion.Lite05, new FrameHeader(5, 1000), "hello"));
        stream.AddRange(WriteFrame(MoqVersion.Lite05, new FrameHeader(5, 33), "world"));
        const string expected = "00 02 00 05 47 d0 05 68 65 6c 6c 6f 40 42 05 77 6f 72 6c 64";
        Assert.Equal(expected, Hex(stream.ToArray()));
        var frames = ReadGroupStream(Bytes(expected), MoqVersion.Lite05);
        Assert.Equal([(1000L, "hello"), (33L, "world")], frames.Select(f => (f.Delta, f.Payload)));
        Assert.Equal("40 41", Hex(WriteFrame(MoqVersion.Lite05, new FrameHeader(0, -33), "")[..2]));
    }

    private static byte[] WriteFrame(MoqVersion version, FrameHeader header, string payload)
    {
        var buffer = new byte[FrameHeader.MaxEncodedSize + payload.Length];
        var n = header.Write(buffer, version);
        Assert.Equal(header.EncodedSize(version), n);
        n += System.Text.Encoding.UTF8.GetBytes(payload, buffer.AsSpan(n));
        return buffer[..n];
    }

    private static List<(long Delta, string Payload)> ReadGroupStream(byte[] stream, MoqVersion version)
    {
        var span = stream.AsSpan();
        Assert.Equal((ulong)UniStreamType.Group, span[0]);
        Assert.True(MessageCodec.TryDecode<GroupHeader>(span[1..], version, ProtocolLimits.Default, out var group, out var consumed));
        Assert.Equal(new GroupHeader(0, 5), group);
        span = span[(1 + consumed)..];
        var frames = new List<(long, string)>();
        while (!span.IsEmpty)
        {
            Assert.True(FrameHeader.TryRead(span, version, ProtocolLimits.Default, out var header, out var n));
            frames.Add((header.TimestampDelta, System.Text.Encoding.UTF8.GetString(span.Slice(n, header.Size))));
            span = span[(n + header.Size)..];
        }
        return frames;
    }

    // V7 — TRACK / TRACK_INFO
    [Fact]
    public void V7_Track_And_TrackInfo()
    {
        Vector(new TrackRequest("demo/clock", "seconds"), MoqVersion.Lite05,
            "06 13 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 07 73 65 63 6f 6e 64 73", (ulong)StreamType.Track);
        Vector(new TrackInfo(0, false, 5000, 1000), MoqVersion.Lite05, "06 00 00 53 88 43 e8");
        Assert.Equal(new TrackInfo(0, false, 5000, 1000), TrackInfo.Synthesized);
    }

    // V8 — lite-05 SETUP
    [Fact]
    public void V8_Setup()
    {
        const ulong setupStream = (ulong)UniStreamType.Setup;
        Vector(new Setup { Origin = 0x1234 }, MoqVersion.Lite05, "01 05 01 05 02 52 34", setupStream);
        Vector(new Setup { Probe = ProbeLevel.Report, Origin = 0x1234 }, MoqVersion.Lite05, "01 08 02 01 01 01 05 02 52 34", setupStream);
        Vector(new Setup { Origin = VarInt.MaxSafeInteger }, MoqVersion.Lite05, "01 0b 01 05 08 c0 1f ff ff ff ff ff ff", setupStream);
        // The JS encoder sends an empty SETUP as a zero-length body; Rust requires the count and
        // the JS decoder accepts it (captures/20), so we decode both and always encode the count.
        Assert.Equal(new Setup(), Decode<Setup>("01 00", MoqVersion.Lite05, setupStream));
        Vector(new Setup(), MoqVersion.Lite05, "01 01 00", setupStream);
        Vector(new Setup { Path = "/demo?jwt=x", Role = SetupRole.Subscriber }, MoqVersion.Lite05,
            "11 02 02 0b 2f 64 65 6d 6f 3f 6a 77 74 3d 78 03 01 02");
    }

    [Fact]
    public void V8_Setup_ParameterOrderIsNotSignificant()
    {
        var setup = Decode<Setup>("11 02 03 01 02 02 0b 2f 64 65 6d 6f 3f 6a 77 74 3d 78", MoqVersion.Lite05);
        Assert.Equal(new Setup { Path = "/demo?jwt=x", Role = SetupRole.Subscriber }, setup);
    }

    // V9 — legacy SETUP
    [Fact]
    public void V9_ClientSetup_AsMoqNetSendsIt()
    {
        const string hex = "20 00 31 03 c0 00 00 00 ff 0d ad 02 c0 00 00 00 ff 0d ad 01 c0 00 00 00 ff 00 00 0e 03 02 80 00 a4 55 80 04 0b 5a 01 07 0b 6d 6f 71 2d 6c 69 74 65 2d 6a 73";
        var expected = new ClientSetup(
            [0xff0dad02, 0xff0dad01, MoqVersions.IetfDraft14],
            [new LegacyParameter(2, 42069), new LegacyParameter(0x40b5a, 1), new LegacyParameter(7, "moq-lite-js"u8.ToArray())]);
        AssertClientSetup(expected, hex);
        Assert.Equal(MoqVersion.Lite02, expected.SelectVersion(MoqVersions.All));
        Assert.Equal(MoqVersion.Lite01, expected.SelectVersion([MoqVersion.Lite01, MoqVersion.Lite04]));
        Assert.Null(expected.SelectVersion([MoqVersion.Lite04, MoqVersion.Lite05]));
    }

    [Fact]
    public void V9_ClientSetup_AsMoqLiteSendsIt()
    {
        const string hex = "20 00 2c 03 c0 00 00 00 ff 0d ad 02 c0 00 00 00 ff 0d ad 01 c0 00 00 00 ff 00 00 0e 02 02 80 00 a4 55 07 0b 6d 6f 71 2d 6c 69 74 65 2d 6a 73";
        AssertClientSetup(new ClientSetup(
            [0xff0dad02, 0xff0dad01, MoqVersions.IetfDraft14],
            [new LegacyParameter(2, 42069), new LegacyParameter(7, "moq-lite-js"u8.ToArray())]), hex);
    }

    [Fact]
    public void V9_ServerSetup_Lite02()
    {
        const string hex = "21 00 09 c0 00 00 00 ff 0d ad 02 00";
        using var writer = new MessageWriter();
        new ServerSetup(MoqVersion.Lite02).Encode(writer);
        Assert.Equal(hex, Hex(writer.WrittenSpan));
        var decoded = ServerSetup.Decode(Bytes(hex));
        Assert.Equal(new ServerSetup(MoqVersion.Lite02), decoded);
        Assert.Equal(MoqVersion.Lite02, decoded.Version);
    }

    private static void AssertClientSetup(ClientSetup expected, string hex)
    {
        using var writer = new MessageWriter();
        expected.Encode(writer);
        Assert.Equal(hex, Hex(writer.WrittenSpan));
        Assert.Equal(expected, ClientSetup.Decode(Bytes(hex)));
        // Byte by byte, as it may trickle in on a stream.
        var bytes = Bytes(hex);
        for (var i = 0; i < bytes.Length; i++)
            Assert.False(ClientSetup.TryDecode(bytes.AsSpan(0, i), ProtocolLimits.Default, out _, out _));
        Assert.True(ClientSetup.TryDecode(bytes, ProtocolLimits.Default, out var message, out var consumed));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(expected, message);
    }

    // V10 — other messages
    [Fact]
    public void V10_Probe()
    {
        Vector(new Probe(1_000_000), MoqVersion.Lite03, "04 80 0f 42 40");
        Vector(new Probe(1_000_000, 40), MoqVersion.Lite04, "05 80 0f 42 40 28");
        Vector(new Probe(1_000_000, 40), MoqVersion.Lite05, "05 80 0f 42 40 28");
    }

    [Fact]
    public void V10_GoAway_Fetch_Datagram()
    {
        Vector(new GoAway(""), MoqVersion.Lite04, "05 01 00", (ulong)StreamType.GoAway);
        Vector(new Fetch("demo/clock", "seconds", 1, 5), MoqVersion.Lite05,
            "03 15 0a 64 65 6d 6f 2f 63 6c 6f 63 6b 07 73 65 63 6f 6e 64 73 01 05", (ulong)StreamType.Fetch);

        var datagram = new Datagram(0, 5, 1000, "hi"u8.ToArray());
        using var writer = new MessageWriter();
        datagram.Encode(writer);
        Assert.Equal("00 05 43 e8 68 69", Hex(writer.WrittenSpan));
        var decoded = Datagram.Decode(Bytes("00 05 43 e8 68 69"));
        Assert.Equal(datagram, decoded);
        Assert.Equal("hi", System.Text.Encoding.UTF8.GetString(decoded.Payload.Span));
    }
}
