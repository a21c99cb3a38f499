using FsCheck;
using FsCheck.Fluent;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using G = MoqCluster.Protocol.Tests.Messages.Generators;
using static MoqCluster.Protocol.Tests.Messages.Wire;

namespace MoqCluster.Protocol.Tests.Messages;

/// <summary>
/// Garbage, mutated and adversarial input: decoders may only throw <see cref="ProtocolException"/>,
/// must reject malformed input with the right code, and must not allocate for claimed sizes.
/// </summary>
public class HostileInputTests
{
    private delegate void Decoder(ReadOnlySpan<byte> input, MoqVersion version, ProtocolLimits limits);

    /// <param name="Strict">The input must be exactly one message: truncating or extending a valid sample must fail.</param>
    private sealed record DecoderCase(string Name, MoqVersion[] Versions, Func<MoqVersion, byte[][]> Samples, Decoder Decode, bool Strict)
    {
        public override string ToString() => Name;
    }

    private static byte[][] Bodies<T>(Gen<T> gen, MoqVersion version) where T : IMessage<T>
        => gen.Sample(10, 12).Select(m =>
        {
            using var writer = new MessageWriter();
            m.EncodeBody(writer, version);
            return writer.ToArray();
        }).ToArray();

    private static DecoderCase Body<T>(Gen<T> gen) where T : IMessage<T>
        => new(typeof(T).Name, Where(T.ExistsIn).ToArray(), v => Bodies(gen, v),
            (input, v, limits) => MessageCodec.Decode<T>(input, v, limits), Strict: true);

    private static byte[][] Responses(MoqVersion version)
    {
        var samples = new List<ISubscribeResponse>();
        if (SubscribeOk.ExistsIn(version))
            samples.AddRange(G.SubscribeOk.Sample(10, 6));
        if (SubscribeDrop.ExistsIn(version))
            samples.AddRange(G.SubscribeDrop.Sample(10, 4));
        if (SubscribeStart.ExistsIn(version))
        {
            samples.AddRange(G.SubscribeStart.Sample(10, 4));
            samples.AddRange(G.SubscribeEnd.Sample(10, 4));
        }
        return samples.Select(r =>
        {
            using var writer = new MessageWriter();
            SubscribeResponses.Encode(writer, r, version);
            return writer.ToArray();
        }).ToArray();
    }

    private static readonly DecoderCase[] Cases =
    [
        Body(G.AnnouncePlease), Body(G.AnnounceInit), Body(G.AnnounceOk), Body(G.Announce),
        Body(G.Subscribe), Body(G.SubscribeUpdate), Body(G.SubscribeOk), Body(G.SubscribeDrop),
        Body(G.SubscribeStart), Body(G.SubscribeEnd), Body(G.TrackRequest), Body(G.TrackInfo),
        Body(G.Fetch), Body(G.Probe), Body(G.GoAway), Body(G.SessionInfo), Body(G.GroupHeader), Body(G.Setup),
        new("SubscribeResponses.TryDecode", AllVersions, Responses,
            (input, v, limits) => SubscribeResponses.TryDecode(input, v, limits, out _, out _), Strict: false),
        new("ClientSetup", AllVersions, _ => G.ClientSetup.Sample(10, 12).Select(m =>
            {
                using var writer = new MessageWriter();
                m.Encode(writer);
                return writer.ToArray();
            }).ToArray(),
            (input, _, limits) => ClientSetup.Decode(input, limits), Strict: true),
        new("ServerSetup", AllVersions, _ => G.ServerSetup.Sample(10, 12).Select(m =>
            {
                using var writer = new MessageWriter();
                m.Encode(writer);
                return writer.ToArray();
            }).ToArray(),
            (input, _, limits) => ServerSetup.Decode(input, limits), Strict: true),
        new("FrameHeader", AllVersions, v => G.FrameHeader.Sample(10, 12).Select(h =>
            {
                var buffer = new byte[FrameHeader.MaxEncodedSize];
                return buffer[..h.Write(buffer, v)];
            }).ToArray(),
            (input, v, limits) => FrameHeader.TryRead(input, v, limits, out _, out _), Strict: false),
        new("Datagram", [MoqVersion.Lite05], _ => G.Datagram.Sample(10, 12).Select(d =>
            {
                using var writer = new MessageWriter();
                d.Encode(writer);
                return writer.ToArray();
            }).ToArray(),
            (input, _, limits) => Datagram.Decode(input.ToArray(), limits), Strict: false),
    ];

    public static TheoryData<string> CaseNames() => new(Cases.Select(c => c.Name));

    private static DecoderCase Find(string name) => Cases.Single(c => c.Name == name);

    /// <summary>Runs a decoder; a <see cref="ProtocolException"/> is an acceptable outcome, anything else escapes and fails the test.</summary>
    private static bool Survives(DecoderCase c, ReadOnlySpan<byte> input, MoqVersion version)
    {
        try
        {
            c.Decode(input, version, ProtocolLimits.Default);
            return true;
        }
        catch (ProtocolException)
        {
            return false;
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void RandomBytes_OnlyEverThrowProtocolException(string name)
    {
        var c = Find(name);
        var bytes = from n in Gen.Choose(0, 48) from b in Gen.ArrayOf(G.U8, n) select b;
        foreach (var version in c.Versions)
            Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(bytes.ToArbitrary(), input => { Survives(c, input, version); }));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MutatedValidEncodings_OnlyEverThrowProtocolException(string name)
    {
        var c = Find(name);
        var random = new Random(name.Length * 7919);
        foreach (var version in c.Versions)
        {
            foreach (var sample in c.Samples(version))
            {
                Assert.True(Survives(c, sample, version), $"valid sample rejected: {Hex(sample)}");
                for (var cut = 0; cut < sample.Length; cut++)
                {
                    var survived = Survives(c, sample.AsSpan(0, cut), version);
                    // An empty SETUP body is the JS encoding of "no parameters" (spec §7.2 V8).
                    if (c.Strict && !(c.Name == nameof(Setup) && cut == 0))
                        Assert.False(survived, $"truncation to {cut} accepted: {Hex(sample)}");
                }
                var extended = sample.Append((byte)random.Next(256)).ToArray();
                var extendedSurvived = Survives(c, extended, version);
                if (c.Strict)
                    Assert.False(extendedSurvived, $"trailing byte accepted: {Hex(extended)}");
                for (var i = 0; i < sample.Length; i++)
                {
                    var flipped = (byte[])sample.Clone();
                    flipped[i] ^= (byte)random.Next(1, 256);
                    Survives(c, flipped, version);
                }
            }
        }
    }

    private static readonly ProtocolLimits Unbounded = new()
    {
        MaxAnnounceCount = int.MaxValue,
        MaxHops = int.MaxValue,
        MaxVersions = int.MaxValue,
        MaxParameters = int.MaxValue,
        MaxStringLength = int.MaxValue,
    };

    /// <summary>
    /// Claims of ~2^30 items or bytes followed by nothing, with the configured limits lifted so that
    /// only the remaining-bytes check stands between the claim and a gigabyte allocation.
    /// </summary>
    public static TheoryData<string, string> HugeClaims() => new()
    {
        { "AnnounceInit count", "bf ff ff ff" },
        { "Announce hop list", "01 00 bf ff ff ff" },
        { "Subscribe path length", "00 bf ff ff ff" },
        { "Setup parameter count", "bf ff ff ff 01" },
        { "Setup parameter length", "01 07 bf ff ff ff" },
        { "ClientSetup version count", "20 00 04 bf ff ff ff" },
        { "ClientSetup parameter length", "20 00 07 00 01 01 bf ff ff ff" },
        { "ServerSetup parameter count", "21 00 05 02 bf ff ff ff" },
    };

    private static void DecodeClaim(string what, byte[] input, ProtocolLimits limits)
    {
        switch (what)
        {
            case "AnnounceInit count": MessageCodec.Decode<AnnounceInit>(input, MoqVersion.Lite02, limits); break;
            case "Announce hop list": MessageCodec.Decode<Announce>(input, MoqVersion.Lite04, limits); break;
            case "Subscribe path length": MessageCodec.Decode<Subscribe>(input, MoqVersion.Lite04, limits); break;
            case "Setup parameter count":
            case "Setup parameter length": MessageCodec.Decode<Setup>(input, MoqVersion.Lite05, limits); break;
            case "ClientSetup version count":
            case "ClientSetup parameter length": ClientSetup.Decode(input, limits); break;
            default: ServerSetup.Decode(input, limits); break;
        }
    }

    [Theory]
    [MemberData(nameof(HugeClaims))]
    public void HugeClaimedSizes_FailBeforeAllocating(string what, string hex)
    {
        var input = Bytes(hex);
        // Warm up so JIT and first-throw costs are not counted.
        Assert.ThrowsAny<ProtocolException>(() => DecodeClaim(what, input, Unbounded));
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            DecodeClaim(what, input, Unbounded);
            Assert.Fail("decoded a truncated message");
        }
        catch (DecodeException e)
        {
            Assert.Equal(MoqErrorCode.Decode, e.Code);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 0, 16 * 1024);

        // With the default limits the same claims are refused as out of bounds (or truncated).
        var error = Assert.ThrowsAny<ProtocolException>(() => DecodeClaim(what, input, ProtocolLimits.Default));
        Assert.Contains(error.Code, new[] { MoqErrorCode.BoundsExceeded, MoqErrorCode.Decode });
    }

    private static void AssertCode(MoqErrorCode code, Action action)
    {
        var error = Assert.Throws<DecodeException>(action);
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void TruncatedVarint() => AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<GroupHeader>(Bytes("00 40"), MoqVersion.Lite04));

    [Fact]
    public void OversizeLength()
    {
        // A length prefix over the limit is refused before any body is buffered.
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.TryReadLength(Bytes("80 01 00 01"), ProtocolLimits.Default, out _, out _));
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.TryDecode<Subscribe>(Bytes("bf ff ff ff 00"), MoqVersion.Lite04, ProtocolLimits.Default, out _, out _));
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.Decode<GoAway>(new byte[70_000], MoqVersion.Lite04));
        var small = new ProtocolLimits { MaxMessageSize = 8 };
        AssertCode(MoqErrorCode.BoundsExceeded, () => ClientSetup.Decode(Bytes("20 00 09 00 00 00 00 00 00 00 00 00"), small));
        AssertCode(MoqErrorCode.BoundsExceeded, () => FrameHeader.TryRead(Bytes("c0 00 00 00 01 00 00 01"), MoqVersion.Lite04, ProtocolLimits.Default, out _, out _));
        // Not yet complete is not an error.
        Assert.False(MessageCodec.TryDecode<Subscribe>(Bytes("10 00"), MoqVersion.Lite04, ProtocolLimits.Default, out _, out var consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void TruncatedMessage()
    {
        var full = Bytes(Encode(new Subscribe(1, "demo", "t", 1), MoqVersion.Lite04))[1..];
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<Subscribe>(full[..^1], MoqVersion.Lite04));
        AssertCode(MoqErrorCode.Decode, () => ServerSetup.Decode(Bytes("21 00 09 c0 00 00 00 ff 0d ad 02")));
    }

    [Fact]
    public void TrailingBytes()
    {
        // Both client decoders reject a SUBSCRIBE_OK with one extra byte (spec §7.1); so do we.
        AssertCode(MoqErrorCode.Decode, () => DecodeResponse("00 06 02 00 00 00 00 00", MoqVersion.Lite04));
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<SubscribeOk>(Bytes("00"), MoqVersion.Lite02));
        AssertCode(MoqErrorCode.Decode, () => ServerSetup.Decode(Bytes("21 00 09 c0 00 00 00 ff 0d ad 02 00 00")));
        AssertCode(MoqErrorCode.Decode, () => ServerSetup.Decode(Bytes("21 00 0a c0 00 00 00 ff 0d ad 02 00 00")));
    }

    [Fact]
    public void InvalidUtf8()
    {
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<GoAway>(Bytes("02 c3 28"), MoqVersion.Lite04));
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<TrackRequest>(Bytes("01 61 01 ff"), MoqVersion.Lite05));
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<Setup>(Bytes("01 02 01 ff"), MoqVersion.Lite05));
    }

    [Fact]
    public void TooManyPathSegments()
    {
        var path = string.Join('/', Enumerable.Repeat("x", 33));
        using var writer = new MessageWriter();
        writer.WriteString(path);
        writer.WriteVarInt(0UL);
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.Decode<AnnouncePlease>(writer.WrittenSpan, MoqVersion.Lite04));
    }

    [Fact]
    public void TooManyHops()
    {
        var ok = "00 00 20" + string.Concat(Enumerable.Repeat(" 01", 32));
        Assert.Equal(32, MessageCodec.Decode<Announce>(Bytes(ok), MoqVersion.Lite04).Hops.Count);
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.Decode<Announce>(Bytes("00 00 21" + string.Concat(Enumerable.Repeat(" 01", 33))), MoqVersion.Lite04));
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.Decode<Announce>(Bytes("00 00 21"), MoqVersion.Lite03));
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.Decode<Announce>(Bytes("00 00 21"), MoqVersion.Lite05));
    }

    [Fact]
    public void TooManySetupParameters()
    {
        string Parameters(int n) => $"{VarIntHex((ulong)n)}" + string.Concat(Enumerable.Range(0, n).Select(i => $" {VarIntHex((ulong)(100 + i))} 00"));
        Assert.Equal(64, MessageCodec.Decode<Setup>(Bytes(Parameters(64)), MoqVersion.Lite05).Unknown.Count);
        AssertCode(MoqErrorCode.BoundsExceeded, () => MessageCodec.Decode<Setup>(Bytes(Parameters(65)), MoqVersion.Lite05));
    }

    private static string VarIntHex(ulong value)
    {
        var buffer = new byte[8];
        return Hex(buffer.AsSpan(0, VarInt.Write(buffer, value)));
    }

    [Fact]
    public void DuplicateSetupParameter()
    {
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<Setup>(Bytes("02 05 01 01 05 01 02"), MoqVersion.Lite05));
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<Setup>(Bytes("02 40 63 00 40 63 00"), MoqVersion.Lite05));
    }

    [Fact]
    public void SetupIntegerParameter_MustHoldExactlyOneVarint()
    {
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<Setup>(Bytes("01 05 02 01 01"), MoqVersion.Lite05));
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<Setup>(Bytes("01 01 00"), MoqVersion.Lite05));
        // A non-minimal single varint is still one varint; unknown probe/role values saturate.
        Assert.Equal(ProbeLevel.Increase, MessageCodec.Decode<Setup>(Bytes("01 01 02 40 07"), MoqVersion.Lite05).Probe);
        Assert.Equal(SetupRole.Both, MessageCodec.Decode<Setup>(Bytes("01 03 01 09"), MoqVersion.Lite05).Role);
        Assert.Equal(new SetupParameter(0xbeef, [0]), MessageCodec.Decode<Setup>(Bytes("01 80 00 be ef 01 00"), MoqVersion.Lite05).Unknown.Single());
    }

    [Fact]
    public void BooleanByteTwo()
    {
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<SubscribeUpdate>(Bytes("03 02 00 00 00"), MoqVersion.Lite04));
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<TrackInfo>(Bytes("00 02 00 01"), MoqVersion.Lite05));
    }

    [Fact]
    public void TrackInfoTimescaleZero()
    {
        AssertCode(MoqErrorCode.Decode, () => MessageCodec.Decode<TrackInfo>(Bytes("00 00 53 88 00"), MoqVersion.Lite05));
        using var writer = new MessageWriter();
        var error = Assert.ThrowsAny<ProtocolException>(() => MessageCodec.Encode(writer, new TrackInfo(0, false, 0, 0), MoqVersion.Lite05));
        Assert.Equal(MoqErrorCode.Encode, error.Code);
    }

    [Fact]
    public void UnknownSubscribeResponseType()
    {
        AssertCode(MoqErrorCode.Decode, () => DecodeResponse("03 01 00", MoqVersion.Lite05));
        AssertCode(MoqErrorCode.Decode, () => DecodeResponse("02 01 00", MoqVersion.Lite03));
        AssertCode(MoqErrorCode.Decode, () => SubscribeResponses.DecodeTyped(9, [], MoqVersion.Lite04));
    }

    [Fact]
    public void WrongLegacySetupType()
    {
        AssertCode(MoqErrorCode.Decode, () => ClientSetup.Decode(Bytes("21 00 09 c0 00 00 00 ff 0d ad 02 00")));
        AssertCode(MoqErrorCode.Decode, () => ClientSetup.TryDecode(Bytes("00"), ProtocolLimits.Default, out _, out _));
    }

    [Fact]
    public void HopIdsAbove2Pow53_AreDecodedButNeverEncoded()
    {
        // Rust peers may send 62-bit values; the JS clients cannot read them, so we refuse to send them.
        var announce = MessageCodec.Decode<Announce>(Bytes("00 00 01 c0 40 00 00 00 00 00 00"), MoqVersion.Lite04);
        Assert.Equal(1UL << 54, announce.Hops[0]);
        using var writer = new MessageWriter();
        var error = Assert.ThrowsAny<ProtocolException>(() => MessageCodec.Encode(writer, announce, MoqVersion.Lite04));
        Assert.Equal(MoqErrorCode.Encode, error.Code);
        // Subscribe ids are full 62-bit values on every client.
        Assert.Equal(VarInt.MaxValue, Decode<Subscribe>(Encode(new Subscribe(VarInt.MaxValue, "a", "b", 0), MoqVersion.Lite04), MoqVersion.Lite04).Id);
    }
}
