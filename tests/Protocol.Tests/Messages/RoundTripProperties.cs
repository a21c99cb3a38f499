using FsCheck;
using FsCheck.Fluent;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using G = MoqCluster.Protocol.Tests.Messages.Generators;

namespace MoqCluster.Protocol.Tests.Messages;

/// <summary>
/// decode(encode(m)) equals m (minus the fields the version does not carry) and re-encoding gives
/// the same bytes, for every message and every version it exists in.
/// </summary>
public class RoundTripProperties
{
    private static readonly Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(150);

    private static void RoundTrip<T>(Gen<T> gen, Func<T, MoqVersion, T>? expected = null) where T : IMessage<T>
    {
        var versions = Wire.Where(T.ExistsIn).ToArray();
        Assert.NotEmpty(versions);
        foreach (var version in versions)
        {
            Check.One(Config, Prop.ForAll(gen.ToArbitrary(), (T message) =>
            {
                var bytes = MessageCodec.ToArray(message, version);
                Assert.True(MessageCodec.TryDecode<T>(bytes, version, ProtocolLimits.Default, out var decoded, out var consumed));
                Assert.Equal(bytes.Length, consumed);
                Assert.Equal(expected is null ? message : expected(message, version), decoded);
                Assert.Equal(bytes, MessageCodec.ToArray(decoded!, version));
            }));
        }
    }

    [Fact] public void AnnouncePlease_RoundTrips() => RoundTrip(G.AnnouncePlease, (m, v) => v.HasExcludeHop() ? m : m with { ExcludeHop = 0 });
    [Fact] public void AnnounceInit_RoundTrips() => RoundTrip(G.AnnounceInit);
    [Fact] public void AnnounceOk_RoundTrips() => RoundTrip(G.AnnounceOk);

    [Fact]
    public void Announce_RoundTrips() => RoundTrip(G.Announce, (m, v) =>
        v.HasHopCount() ? new Announce(m.Status, m.Suffix, [], m.HopCount)
        : v.HasHopIds() ? new Announce(m.Status, m.Suffix, m.Hops)
        : new Announce(m.Status, m.Suffix));

    [Fact]
    public void Subscribe_RoundTrips() => RoundTrip(G.Subscribe, (m, v) =>
        v.HasSubscribeOptions() ? m : m with { Ordered = false, MaxLatencyMs = 0, StartGroup = null, EndGroup = null });

    [Fact] public void SubscribeUpdate_RoundTrips() => RoundTrip(G.SubscribeUpdate);

    [Fact]
    public void SubscribeOk_RoundTrips() => RoundTrip(G.SubscribeOk, (m, v) => v switch
    {
        MoqVersion.Lite01 => new SubscribeOk(m.Priority),
        MoqVersion.Lite02 => new SubscribeOk(),
        _ => m,
    });

    [Fact] public void SubscribeDrop_RoundTrips() => RoundTrip(G.SubscribeDrop);
    [Fact] public void SubscribeStart_RoundTrips() => RoundTrip(G.SubscribeStart);
    [Fact] public void SubscribeEnd_RoundTrips() => RoundTrip(G.SubscribeEnd);
    [Fact] public void TrackRequest_RoundTrips() => RoundTrip(G.TrackRequest);
    [Fact] public void TrackInfo_RoundTrips() => RoundTrip(G.TrackInfo);
    [Fact] public void Fetch_RoundTrips() => RoundTrip(G.Fetch);
    [Fact] public void Probe_RoundTrips() => RoundTrip(G.Probe, (m, v) => v.HasProbeRtt() ? m : m with { RttMs = 0 });
    [Fact] public void GoAway_RoundTrips() => RoundTrip(G.GoAway);
    [Fact] public void SessionInfo_RoundTrips() => RoundTrip(G.SessionInfo);
    [Fact] public void GroupHeader_RoundTrips() => RoundTrip(G.GroupHeader);
    [Fact] public void Setup_RoundTrips() => RoundTrip(G.Setup, (m, v) => string.IsNullOrEmpty(m.Path) ? m with { Path = null } : m);

    [Fact]
    public void SubscribeResponses_ThroughTheStreamDecoder()
    {
        var gen = Gen.OneOf(
            G.SubscribeOk.Select(m => (ISubscribeResponse)m),
            G.SubscribeDrop.Select(m => (ISubscribeResponse)m),
            G.SubscribeStart.Select(m => (ISubscribeResponse)m),
            G.SubscribeEnd.Select(m => (ISubscribeResponse)m));
        foreach (var version in Wire.AllVersions)
        {
            Check.One(Config, Prop.ForAll(gen.ToArbitrary(), response =>
            {
                var exists = response switch
                {
                    SubscribeOk => SubscribeOk.ExistsIn(version),
                    SubscribeDrop => SubscribeDrop.ExistsIn(version),
                    SubscribeStart => SubscribeStart.ExistsIn(version),
                    _ => SubscribeEnd.ExistsIn(version),
                };
                using var writer = new MessageWriter();
                if (!exists)
                {
                    Assert.ThrowsAny<ProtocolException>(() => SubscribeResponses.Encode(writer, response, version));
                    return;
                }
                SubscribeResponses.Encode(writer, response, version);
                var bytes = writer.ToArray();
                Assert.True(SubscribeResponses.TryDecode(bytes, version, ProtocolLimits.Default, out var decoded, out var consumed));
                Assert.Equal(bytes.Length, consumed);
                Assert.Equal(response.GetType(), decoded!.GetType());
                writer.Reset();
                SubscribeResponses.Encode(writer, decoded, version);
                Assert.Equal(bytes, writer.ToArray());
                // Every strict prefix is "need more bytes" or a decode error, never a wrong message.
                for (var i = 0; i < bytes.Length; i++)
                    Assert.False(SubscribeResponses.TryDecode(bytes.AsSpan(0, i), version, ProtocolLimits.Default, out _, out _));
            }));
        }
    }

    [Fact]
    public void LegacySetup()
    {
        Check.One(Config, Prop.ForAll(G.ClientSetup.ToArbitrary(), message =>
        {
            using var writer = new MessageWriter();
            message.Encode(writer);
            Assert.Equal(message, ClientSetup.Decode(writer.WrittenSpan));
        }));
        Check.One(Config, Prop.ForAll(G.ServerSetup.ToArbitrary(), message =>
        {
            using var writer = new MessageWriter();
            message.Encode(writer);
            Assert.Equal(message, ServerSetup.Decode(writer.WrittenSpan));
        }));
    }

    [Fact]
    public void FrameHeaders()
    {
        foreach (var version in Wire.AllVersions)
        {
            Check.One(Config, Prop.ForAll(G.FrameHeader.ToArbitrary(), header =>
            {
                Span<byte> buffer = stackalloc byte[FrameHeader.MaxEncodedSize];
                var n = header.Write(buffer, version);
                Assert.True(FrameHeader.TryRead(buffer[..n], version, ProtocolLimits.Default, out var read, out var consumed));
                Assert.Equal(n, consumed);
                Assert.Equal(version.HasTrackInfo() ? header : header with { TimestampDelta = 0 }, read);
                Assert.False(FrameHeader.TryRead(buffer[..(n - 1)], version, ProtocolLimits.Default, out _, out _));
            }));
        }
    }

    [Fact]
    public void GroupStreamPrefix_MatchesTheWriter()
    {
        Check.One(Config, Prop.ForAll(G.GroupHeader.ToArbitrary(), header =>
        {
            using var writer = new MessageWriter();
            writer.WriteVarInt((ulong)UniStreamType.Group);
            MessageCodec.Encode(writer, header, MoqVersion.Lite04);
            Span<byte> prefix = stackalloc byte[GroupHeader.MaxStreamPrefixSize];
            var n = header.WriteStreamPrefix(prefix);
            Assert.True(writer.WrittenSpan.SequenceEqual(prefix[..n]));
        }));
    }

    [Fact]
    public void Datagrams()
    {
        Check.One(Config, Prop.ForAll(G.Datagram.ToArbitrary(), datagram =>
        {
            using var writer = new MessageWriter();
            datagram.Encode(writer);
            Assert.Equal(datagram, Datagram.Decode(writer.ToArray()));
        }));
    }
}
