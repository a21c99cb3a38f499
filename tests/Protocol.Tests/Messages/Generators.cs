using FsCheck;
using FsCheck.Fluent;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;

namespace MoqCluster.Protocol.Tests.Messages;

/// <summary>FsCheck generators for valid field values and whole messages.</summary>
internal static class Generators
{
    private static readonly Gen<ulong> Bits62 =
        from hi in Gen.Choose(0, int.MaxValue)
        from lo in Gen.Choose(0, int.MaxValue)
        select ((ulong)hi << 31) | (uint)lo;

    /// <summary>Varints up to <paramref name="max"/>, biased towards the 1/2/4/8-byte boundaries.</summary>
    public static Gen<ulong> Upto(ulong max) => Gen.Frequency(
        (3, Gen.Choose(0, 63).Select(i => (ulong)i)),
        (2, Gen.Choose(64, 16383).Select(i => (ulong)i)),
        (2, Gen.Choose(16384, 1073741823).Select(i => (ulong)i)),
        (2, Bits62.Select(v => v % (max + 1))),
        (1, Gen.Elements(0UL, 63UL, 64UL, 16383UL, 16384UL, 1073741823UL, 1073741824UL, VarInt.MaxSafeInteger, VarInt.MaxValue)
            .Select(v => Math.Min(v, max))));

    public static readonly Gen<ulong> VarInt62 = Upto(VarInt.MaxValue);
    public static readonly Gen<ulong> U53 = Upto(VarInt.MaxSafeInteger);
    public static readonly Gen<ulong?> OptionalGroup = Gen.Frequency(
        (1, Gen.Constant<ulong?>(null)),
        (3, Upto(VarInt.MaxSafeInteger - 1).Select(v => (ulong?)v)));
    public static readonly Gen<byte> U8 = Gen.Choose(0, 255).Select(i => (byte)i);
    public static readonly Gen<bool> Bool = Gen.Elements(false, true);

    private static readonly Gen<string> Piece = Gen.Elements("a", "Z", "0", "-", "_", ".", " ", "é", "日", "😀", "?", "=");

    /// <summary>Any valid UTF-8 string (may contain <c>/</c>; track names are not normalised).</summary>
    public static readonly Gen<string> Text =
        from n in Gen.Choose(0, 24)
        from pieces in Gen.ArrayOf(Gen.Frequency((9, Piece), (1, Gen.Constant("/"))), n)
        select string.Concat(pieces);

    private static readonly Gen<string> Segment =
        from n in Gen.Choose(1, 6)
        from pieces in Gen.ArrayOf(Piece, n)
        select string.Concat(pieces);

    /// <summary>Normalised paths of 0 to 32 segments.</summary>
    public static readonly Gen<MoqPath> Path =
        from n in Gen.Frequency((5, Gen.Choose(0, 4)), (1, Gen.Choose(5, 32)))
        from segments in Gen.ArrayOf(Segment, n)
        select MoqPath.Parse(string.Join('/', segments));

    public static readonly Gen<ulong[]> HopList =
        from n in Gen.Choose(0, 32)
        from hops in Gen.ArrayOf(U53, n)
        select hops;

    public static readonly Gen<byte[]> SmallBytes =
        from n in Gen.Choose(0, 16)
        from bytes in Gen.ArrayOf(U8, n)
        select bytes;

    public static readonly Gen<AnnouncePlease> AnnouncePlease =
        from prefix in Path
        from exclude in U53
        select new AnnouncePlease(prefix, exclude);

    public static readonly Gen<AnnounceInit> AnnounceInit =
        from n in Gen.Choose(0, 8)
        from suffixes in Gen.ArrayOf(Path, n)
        select new AnnounceInit(suffixes);

    public static readonly Gen<AnnounceOk> AnnounceOk =
        from hop in U53
        from count in Gen.Choose(0, 100_000)
        select new AnnounceOk(hop, count);

    public static readonly Gen<Announce> Announce =
        from status in Gen.Elements(AnnounceStatus.Active, AnnounceStatus.Ended)
        from suffix in Path
        from hops in HopList
        from count in Gen.Choose(0, 32)
        from countOnly in Bool
        select countOnly ? new Announce(status, suffix, [], count) : new Announce(status, suffix, hops);

    public static readonly Gen<Subscribe> Subscribe =
        from id in VarInt62
        from broadcast in Path
        from track in Text
        from priority in U8
        from ordered in Bool
        from latency in U53
        from start in OptionalGroup
        from end in OptionalGroup
        select new Subscribe(id, broadcast, track, priority, ordered, latency, start, end);

    public static readonly Gen<SubscribeUpdate> SubscribeUpdate =
        from priority in U8
        from ordered in Bool
        from latency in U53
        from start in OptionalGroup
        from end in OptionalGroup
        select new SubscribeUpdate(priority, ordered, latency, start, end);

    public static readonly Gen<SubscribeOk> SubscribeOk =
        from priority in U8
        from ordered in Bool
        from latency in U53
        from start in OptionalGroup
        from end in OptionalGroup
        select new SubscribeOk(priority, ordered, latency, start, end);

    public static readonly Gen<SubscribeDrop> SubscribeDrop =
        from start in U53
        from end in U53
        from code in VarInt62
        select new SubscribeDrop(start, end, code);

    public static readonly Gen<SubscribeStart> SubscribeStart = U53.Select(g => new SubscribeStart(g));
    public static readonly Gen<SubscribeEnd> SubscribeEnd = U53.Select(g => new SubscribeEnd(g));

    public static readonly Gen<TrackRequest> TrackRequest =
        from broadcast in Path
        from track in Text
        select new TrackRequest(broadcast, track);

    public static readonly Gen<TrackInfo> TrackInfo =
        from priority in U8
        from ordered in Bool
        from latency in U53
        from timescale in U53.Where(t => t != 0)
        select new TrackInfo(priority, ordered, latency, timescale);

    public static readonly Gen<Fetch> Fetch =
        from broadcast in Path
        from track in Text
        from priority in U8
        from seq in U53
        select new Fetch(broadcast, track, priority, seq);

    public static readonly Gen<Probe> Probe =
        from bitrate in U53
        from rtt in U53
        select new Probe(bitrate, rtt);

    public static readonly Gen<GoAway> GoAway = Text.Select(t => new GoAway(t));
    public static readonly Gen<SessionInfo> SessionInfo = U53.Select(b => new SessionInfo(b));

    public static readonly Gen<GroupHeader> GroupHeader =
        from id in VarInt62
        from sequence in U53
        select new GroupHeader(id, sequence);

    private static readonly Gen<SetupParameter> UnknownSetupParameter =
        from id in VarInt62.Where(id => id is 0 or > 5 || id == (ulong)SetupParameterId.Cost)
        from value in SmallBytes
        select new SetupParameter(id, value);

    public static readonly Gen<Setup> Setup =
        from probe in Gen.Elements(ProbeLevel.None, ProbeLevel.Report, ProbeLevel.Increase)
        from path in Gen.Frequency((1, Gen.Constant<string?>(null)), (1, Text.Select(t => (string?)t)))
        from role in Gen.Elements<SetupRole?>(null, SetupRole.Both, SetupRole.Publisher, SetupRole.Subscriber)
        from origin in Gen.Frequency((1, Gen.Constant<ulong?>(null)), (2, U53.Select(o => (ulong?)o)))
        from n in Gen.Choose(0, 4)
        from unknown in Gen.ArrayOf(UnknownSetupParameter, n)
        select new Setup
        {
            Probe = probe,
            Path = path,
            Role = role,
            Origin = origin,
            Unknown = unknown.DistinctBy(p => p.Id).ToArray(),
        };

    private static readonly Gen<LegacyParameter> LegacyParameter = Gen.OneOf(
        from id in VarInt62 select id & ~1UL into even from value in VarInt62 select new LegacyParameter(even, value),
        from id in VarInt62 select id | 1UL into odd from value in SmallBytes select new LegacyParameter(odd, value));

    public static readonly Gen<ClientSetup> ClientSetup =
        from versionCount in Gen.Choose(0, 8)
        from versions in Gen.ArrayOf(VarInt62, versionCount)
        from parameterCount in Gen.Choose(0, 8)
        from parameters in Gen.ArrayOf(LegacyParameter, parameterCount)
        select new ClientSetup(versions, parameters);

    public static readonly Gen<ServerSetup> ServerSetup =
        from version in VarInt62
        from parameterCount in Gen.Choose(0, 4)
        from parameters in Gen.ArrayOf(LegacyParameter, parameterCount)
        select new ServerSetup(version, parameters);

    public static readonly Gen<FrameHeader> FrameHeader =
        from size in Gen.Frequency((3, Gen.Choose(0, 16383)), (1, Gen.Choose(0, 16 * 1024 * 1024)))
        from delta in Upto(VarInt.MaxSafeInteger).Select(VarInt.ZigZagDecode)
        select new FrameHeader(size, delta);

    public static readonly Gen<Datagram> Datagram =
        from id in VarInt62
        from seq in U53
        from timestamp in U53
        from payload in SmallBytes
        select new Datagram(id, seq, timestamp, payload);
}
