using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// Legacy CLIENT_SETUP (type <c>0x20</c>, u16 payload length; spec §4.1): the first bidirectional
/// stream of a session negotiated with <c>moql</c> or no protocol string. The type byte doubles as
/// the stream type, so <see cref="Encode"/> / <see cref="Decode"/> handle the whole message.
/// </summary>
/// <param name="Versions">Offered version codes in the client's preference order (may include IETF codes).</param>
/// <param name="Parameters">Parameters, kept so they can be skipped or logged; a lite relay ignores them.</param>
public sealed record ClientSetup(IReadOnlyList<ulong> Versions, IReadOnlyList<LegacyParameter> Parameters)
{
    /// <summary>The message (and stream) type.</summary>
    public const ulong Type = 0x20;

    /// <summary>
    /// The first version in the client's list that is a SETUP-negotiated lite version (01/02) and in
    /// <paramref name="supported"/>; null when there is none (close with <see cref="MoqErrorCode.Version"/>).
    /// Only 01/02 may be answered here: the clients break on 03+ after a legacy SETUP (spec §1.3).
    /// </summary>
    public MoqVersion? SelectVersion(IEnumerable<MoqVersion> supported)
    {
        var set = supported.Where(v => v.UsesLegacySetup()).ToHashSet();
        foreach (var code in Versions)
            if (code <= uint.MaxValue && set.Contains((MoqVersion)(uint)code))
                return (MoqVersion)(uint)code;
        return null;
    }

    /// <summary>Writes type, u16 length and payload.</summary>
    public void Encode(MessageWriter writer) => LegacySetupFraming.Encode(writer, Type, EncodeBody);

    /// <summary>Writes the payload only: versions then parameters.</summary>
    public void EncodeBody(MessageWriter writer)
    {
        writer.WriteVarInt((ulong)Versions.Count);
        foreach (var version in Versions)
            writer.WriteVarInt(version);
        LegacyParameter.EncodeList(writer, Parameters);
    }

    /// <summary>Reads the payload; counts are bounded by <see cref="ProtocolLimits.MaxVersions"/> and <see cref="ProtocolLimits.MaxParameters"/>.</summary>
    public static ClientSetup DecodeBody(ref MessageReader reader)
    {
        var versions = ReadVersions(ref reader);
        return new ClientSetup(versions, LegacyParameter.DecodeList(ref reader));
    }

    private static List<ulong> ReadVersions(ref MessageReader reader)
    {
        var count = reader.ReadCount(reader.Limits.MaxVersions, "version count");
        var versions = SequenceEquality.BoundedList<ulong>(count, reader.Remaining);
        for (var i = 0; i < count; i++)
            versions.Add(reader.ReadVarInt());
        return versions;
    }

    /// <summary>
    /// Reads only the version list from a CLIENT_SETUP payload and ignores the parameters, which a lite relay
    /// does not use: <c>@kixelated/moq</c> 0.9.4 sends them in an older layout that a strict parse rejects.
    /// </summary>
    public static IReadOnlyList<ulong> DecodeVersions(ReadOnlySpan<byte> payload, ProtocolLimits limits)
    {
        var reader = new MessageReader(payload, limits);
        return ReadVersions(ref reader);
    }

    /// <summary>Decodes exactly one whole message, starting with the <c>0x20</c> type byte.</summary>
    /// <exception cref="DecodeException">Wrong type, malformed, truncated or trailing bytes.</exception>
    public static ClientSetup Decode(ReadOnlySpan<byte> message, ProtocolLimits? limits = null)
        => LegacySetupFraming.Decode(message, Type, limits ?? ProtocolLimits.Default, DecodeBody);

    /// <summary>Decodes one message from the start of a receive buffer; false when more bytes are needed.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> buffer, ProtocolLimits limits, out ClientSetup? message, out int consumed)
        => LegacySetupFraming.TryDecode(buffer, Type, limits, DecodeBody, out message, out consumed);

    /// <inheritdoc />
    public bool Equals(ClientSetup? other)
        => other is not null && SequenceEquality.Equal(Versions, other.Versions) && SequenceEquality.Equal(Parameters, other.Parameters);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(SequenceEquality.Hash(Versions), SequenceEquality.Hash(Parameters));
}
