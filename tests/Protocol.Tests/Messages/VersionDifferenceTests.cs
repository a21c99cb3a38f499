using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using static MoqCluster.Protocol.Tests.Messages.Wire;

namespace MoqCluster.Protocol.Tests.Messages;

/// <summary>One assertion per message-related row of the version table (spec §4.11).</summary>
public class VersionDifferenceTests
{
    private static void AssertExists<T>(params MoqVersion[] expected) where T : IMessage<T>
    {
        Assert.Equal(expected, Where(T.ExistsIn));
    }

    private static void AssertEncodeRefused<T>(T message, MoqVersion version) where T : IMessage<T>
    {
        using var writer = new MessageWriter();
        var error = Assert.ThrowsAny<ProtocolException>(() => MessageCodec.Encode(writer, message, version));
        Assert.Equal(MoqErrorCode.Encode, error.Code);
        var decode = Assert.ThrowsAny<ProtocolException>(() => MessageCodec.Decode<T>([0], version));
        Assert.Equal(MoqErrorCode.Unsupported, decode.Code);
    }

    [Fact]
    public void SessionInfo_OnlyOnLegacySetupVersions()
    {
        AssertExists<SessionInfo>(MoqVersion.Lite01, MoqVersion.Lite02);
        Assert.Equal("04 80 00 75 30", Encode(new SessionInfo(30000), MoqVersion.Lite02));
        AssertEncodeRefused(new SessionInfo(1), MoqVersion.Lite03);
    }

    [Fact]
    public void Setup_OnlyOnLite05()
    {
        AssertExists<Setup>(MoqVersion.Lite05);
        AssertEncodeRefused(new Setup(), MoqVersion.Lite04);
    }

    [Fact]
    public void AnnounceInit_OnlyOn01And02()
    {
        AssertExists<AnnounceInit>(MoqVersion.Lite01, MoqVersion.Lite02);
        AssertEncodeRefused(new AnnounceInit([]), MoqVersion.Lite03);
    }

    [Fact]
    public void AnnounceOk_OnlyOn05()
    {
        AssertExists<AnnounceOk>(MoqVersion.Lite05);
        AssertEncodeRefused(new AnnounceOk(1, 0), MoqVersion.Lite04);
    }

    [Fact]
    public void AnnounceHops_AbsentCountOrList()
    {
        var announce = new Announce(AnnounceStatus.Active, "a", [7, 9]);
        Assert.Equal("03 01 01 61", Encode(announce, MoqVersion.Lite01));
        Assert.Equal("03 01 01 61", Encode(announce, MoqVersion.Lite02));
        Assert.Equal("04 01 01 61 02", Encode(announce, MoqVersion.Lite03));
        Assert.Equal("06 01 01 61 02 07 09", Encode(announce, MoqVersion.Lite04));
        Assert.Equal("06 01 01 61 02 07 09", Encode(announce, MoqVersion.Lite05));

        // lite-03 decodes into a count without ids.
        var lite03 = Decode<Announce>("04 01 01 61 02", MoqVersion.Lite03);
        Assert.Equal(2, lite03.HopCount);
        Assert.Empty(lite03.Hops);
        // lite-02 has no hop field, so the same trailing byte is rejected.
        Assert.Throws<DecodeException>(() => Decode<Announce>("04 01 01 61 02", MoqVersion.Lite02));
    }

    [Fact]
    public void ExcludeHop_OnlyOn04And05()
    {
        var please = new AnnouncePlease("x", 5);
        foreach (var version in Where(v => v <= MoqVersion.Lite03))
        {
            Assert.Equal("02 01 78", Encode(please, version));
            Assert.Equal(0UL, Decode<AnnouncePlease>("02 01 78", version).ExcludeHop);
        }
        foreach (var version in Where(v => v >= MoqVersion.Lite04))
            Assert.Equal(5UL, Decode<AnnouncePlease>(Encode(please, version), version).ExcludeHop);
    }

    [Fact]
    public void RestartStatus_AcceptedOnlyOn05_AndNeverEncoded()
    {
        Assert.Equal(AnnounceStatus.Active, Decode<Announce>("04 02 01 61 00", MoqVersion.Lite05).Status);
        foreach (var version in Where(v => v <= MoqVersion.Lite04))
        {
            var body = version == MoqVersion.Lite02 || version == MoqVersion.Lite01 ? "03 02 01 61" : "04 02 01 61 00";
            var error = Assert.Throws<DecodeException>(() => Decode<Announce>(body, version));
            Assert.Equal(MoqErrorCode.Decode, error.Code);
        }
        // Re-encoding a decoded restart gives a plain active status byte.
        var restart = Decode<Announce>("04 02 01 61 00", MoqVersion.Lite05);
        Assert.Equal("04 01 01 61 00", Encode(restart, MoqVersion.Lite05));
        using var writer = new MessageWriter();
        Assert.Throws<ProtocolException>(() => MessageCodec.Encode(writer, new Announce((AnnounceStatus)Announce.RestartStatus, "a"), MoqVersion.Lite05));
    }

    [Fact]
    public void SubscribeOptions_From03()
    {
        var subscribe = new Subscribe(1, "b", "t", 4, true, 100, 3, 9);
        Assert.Equal("06 01 01 62 01 74 04", Encode(subscribe, MoqVersion.Lite02));
        Assert.Equal("0b 01 01 62 01 74 04 01 40 64 04 0a", Encode(subscribe, MoqVersion.Lite03));
        Assert.Equal(subscribe with { Ordered = false, MaxLatencyMs = 0, StartGroup = null, EndGroup = null },
            Decode<Subscribe>(Encode(subscribe, MoqVersion.Lite01), MoqVersion.Lite01));
        Assert.Equal(subscribe, Decode<Subscribe>(Encode(subscribe, MoqVersion.Lite05), MoqVersion.Lite05));
    }

    [Fact]
    public void SubscribeUpdate_From03()
    {
        AssertExists<SubscribeUpdate>(MoqVersion.Lite03, MoqVersion.Lite04, MoqVersion.Lite05);
        AssertEncodeRefused(new SubscribeUpdate(1), MoqVersion.Lite02);
    }

    [Fact]
    public void FirstSubscribeResponse_PerVersion()
    {
        var ok = new SubscribeOk(7, true, 10, 1, 2);
        Assert.Equal("01 07", EncodeResponse(ok, MoqVersion.Lite01));
        Assert.Equal("00", EncodeResponse(ok, MoqVersion.Lite02));
        Assert.Equal("00 05 07 01 0a 02 03", EncodeResponse(ok, MoqVersion.Lite03));
        Assert.Equal("00 05 07 01 0a 02 03", EncodeResponse(ok, MoqVersion.Lite04));
        Assert.Equal(new SubscribeOk(7), DecodeResponse("01 07", MoqVersion.Lite01));
        Assert.Equal(new SubscribeOk(), DecodeResponse("00", MoqVersion.Lite02));
        Assert.Equal(ok, DecodeResponse("00 05 07 01 0a 02 03", MoqVersion.Lite04));
        // Swapping lite-01 and lite-02 is a classic mistake (pitfall 24): each rejects the other's form.
        Assert.Throws<DecodeException>(() => DecodeResponse("01 07", MoqVersion.Lite02));
        Assert.Throws<DecodeException>(() => DecodeResponse("00", MoqVersion.Lite01));
        // lite-05 has no SUBSCRIBE_OK at all; its type 0 is SUBSCRIBE_START.
        AssertExists<SubscribeOk>(MoqVersion.Lite01, MoqVersion.Lite02, MoqVersion.Lite03, MoqVersion.Lite04);
        using var writer = new MessageWriter();
        Assert.Throws<ProtocolException>(() => SubscribeResponses.Encode(writer, ok, MoqVersion.Lite05));
        Assert.IsType<SubscribeStart>(DecodeResponse("00 01 05", MoqVersion.Lite05));
    }

    [Fact]
    public void SubscribeDrop_Type1On03And04_Type2On05()
    {
        AssertExists<SubscribeDrop>(MoqVersion.Lite03, MoqVersion.Lite04, MoqVersion.Lite05);
        Assert.Equal(1UL, SubscribeDrop.TypeCode(MoqVersion.Lite03));
        Assert.Equal(1UL, SubscribeDrop.TypeCode(MoqVersion.Lite04));
        Assert.Equal(2UL, SubscribeDrop.TypeCode(MoqVersion.Lite05));
        // Type 2 means nothing on lite-04; type 1 is SUBSCRIBE_END on lite-05.
        Assert.Throws<DecodeException>(() => DecodeResponse("02 03 01 03 00", MoqVersion.Lite04));
        Assert.IsType<SubscribeEnd>(DecodeResponse("01 01 06", MoqVersion.Lite05));
    }

    [Fact]
    public void SubscribeStartAndEnd_OnlyOn05()
    {
        AssertExists<SubscribeStart>(MoqVersion.Lite05);
        AssertExists<SubscribeEnd>(MoqVersion.Lite05);
        using var writer = new MessageWriter();
        Assert.Throws<ProtocolException>(() => SubscribeResponses.Encode(writer, new SubscribeEnd(1), MoqVersion.Lite04));
    }

    [Fact]
    public void TrackAndFetch_OnlyOn05()
    {
        AssertExists<TrackRequest>(MoqVersion.Lite05);
        AssertExists<TrackInfo>(MoqVersion.Lite05);
        AssertExists<Fetch>(MoqVersion.Lite05);
        AssertEncodeRefused(new Fetch("a", "b", 0, 1), MoqVersion.Lite04);
        Assert.False(StreamType.Track.IsAllowed(MoqVersion.Lite04));
        Assert.True(StreamType.Track.IsAllowed(MoqVersion.Lite05));
        Assert.False(StreamType.Fetch.IsAllowed(MoqVersion.Lite03));
    }

    [Fact]
    public void Probe_BitrateOn03_RttFrom04()
    {
        AssertExists<Probe>(MoqVersion.Lite03, MoqVersion.Lite04, MoqVersion.Lite05);
        Assert.Equal("01 0a", Encode(new Probe(10, 20), MoqVersion.Lite03));
        Assert.Equal("02 0a 14", Encode(new Probe(10, 20), MoqVersion.Lite04));
        Assert.Equal(new Probe(10), Decode<Probe>("01 0a", MoqVersion.Lite03));
        Assert.False(StreamType.Probe.IsAllowed(MoqVersion.Lite02));
    }

    [Fact]
    public void GoAway_From04()
    {
        AssertExists<GoAway>(MoqVersion.Lite04, MoqVersion.Lite05);
        AssertEncodeRefused(new GoAway(""), MoqVersion.Lite03);
        Assert.False(StreamType.GoAway.IsAllowed(MoqVersion.Lite03));
        Assert.True(StreamType.GoAway.IsAllowed(MoqVersion.Lite04));
    }

    [Fact]
    public void FrameTimestampDelta_OnlyOn05()
    {
        var header = new FrameHeader(3, -2);
        Span<byte> buffer = stackalloc byte[FrameHeader.MaxEncodedSize];
        Assert.Equal("03", Hex(buffer[..header.Write(buffer, MoqVersion.Lite04)]));
        Assert.Equal("03 03", Hex(buffer[..header.Write(buffer, MoqVersion.Lite05)]));
        Assert.True(FrameHeader.TryRead(Bytes("03 03"), MoqVersion.Lite04, ProtocolLimits.Default, out var old, out var n));
        Assert.Equal((new FrameHeader(3), 1), (old, n));
        Assert.True(FrameHeader.TryRead(Bytes("03 03"), MoqVersion.Lite05, ProtocolLimits.Default, out var lite05, out n));
        Assert.Equal((header, 2), (lite05, n));
    }

    [Fact]
    public void Datagrams_And_SetupStream_OnlyOn05()
    {
        Assert.Equal([MoqVersion.Lite05], Where(Datagram.ExistsIn));
        Assert.Equal([MoqVersion.Lite05], Where(v => UniStreamType.Setup.IsAllowed(v)));
        Assert.Equal(AllVersions, Where(v => UniStreamType.Group.IsAllowed(v)));
        Assert.Equal([MoqVersion.Lite01, MoqVersion.Lite02], Where(v => StreamType.ClientSetup.IsAllowed(v)));
        Assert.Empty(Where(v => StreamType.Session.IsAllowed(v)));
    }
}
