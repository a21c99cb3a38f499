using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// Legacy SERVER_SETUP (type <c>0x21</c>, u16 payload length; spec §4.1): the relay's answer on the
/// client's setup stream, which then stays open as the session stream.
/// </summary>
/// <param name="SelectedVersion">The chosen version code; the relay answers only lite-01 or lite-02.</param>
/// <param name="Parameters">Parameters; the relay sends none.</param>
public sealed record ServerSetup(ulong SelectedVersion, IReadOnlyList<LegacyParameter> Parameters)
{
    /// <summary>The message type.</summary>
    public const ulong Type = 0x21;

    /// <summary>Creates the answer selecting <paramref name="version"/> with no parameters.</summary>
    public ServerSetup(MoqVersion version) : this((ulong)version, []) { }

    /// <summary>The selected version when it is a known lite version, else null.</summary>
    public MoqVersion? Version => SelectedVersion <= uint.MaxValue && Enum.IsDefined((MoqVersion)(uint)SelectedVersion)
        ? (MoqVersion)(uint)SelectedVersion
        : null;

    /// <summary>Writes type, u16 length and payload.</summary>
    public void Encode(MessageWriter writer) => LegacySetupFraming.Encode(writer, Type, EncodeBody);

    /// <summary>Writes the payload only: selected version then parameters.</summary>
    public void EncodeBody(MessageWriter writer)
    {
        writer.WriteVarInt(SelectedVersion);
        LegacyParameter.EncodeList(writer, Parameters);
    }

    /// <summary>Reads the payload.</summary>
    public static ServerSetup DecodeBody(ref MessageReader reader)
        => new(reader.ReadVarInt(), LegacyParameter.DecodeList(ref reader));

    /// <summary>Decodes exactly one whole message, starting with the <c>0x21</c> type byte.</summary>
    /// <exception cref="DecodeException">Wrong type, malformed, truncated or trailing bytes.</exception>
    public static ServerSetup Decode(ReadOnlySpan<byte> message, ProtocolLimits? limits = null)
        => LegacySetupFraming.Decode(message, Type, limits ?? ProtocolLimits.Default, DecodeBody);

    /// <summary>Decodes one message from the start of a receive buffer; false when more bytes are needed.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> buffer, ProtocolLimits limits, out ServerSetup? message, out int consumed)
        => LegacySetupFraming.TryDecode(buffer, Type, limits, DecodeBody, out message, out consumed);

    /// <inheritdoc />
    public bool Equals(ServerSetup? other)
        => other is not null && SelectedVersion == other.SelectedVersion && SequenceEquality.Equal(Parameters, other.Parameters);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(SelectedVersion, SequenceEquality.Hash(Parameters));
}
