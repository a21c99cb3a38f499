using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// ANNOUNCE_PLEASE (a.k.a. ANNOUNCE_INTEREST / ANNOUNCE_REQUEST): the first message on an Announce
/// stream, subscriber → publisher (spec §4.3).
/// </summary>
/// <param name="Prefix">Only broadcasts under this (segment-wise) prefix are announced.</param>
/// <param name="ExcludeHop">lite-04/05: the requester's origin id, whose own broadcasts must not be reflected back; 0 = none. Not on the wire before lite-04.</param>
public sealed record AnnouncePlease(MoqPath Prefix, ulong ExcludeHop = 0) : IMessage<AnnouncePlease>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => true;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WritePath(Prefix);
        if (version.HasExcludeHop())
            writer.WriteU53(ExcludeHop);
    }

    /// <inheritdoc />
    public static AnnouncePlease DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var prefix = reader.ReadPath();
        var exclude = version.HasExcludeHop() ? reader.ReadVarInt() : 0;
        return new AnnouncePlease(prefix, exclude);
    }
}
