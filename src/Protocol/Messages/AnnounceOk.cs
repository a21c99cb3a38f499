using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// ANNOUNCE_OK (lite-05+): the publisher's first message on an Announce stream; must be sent
/// promptly even with a count of 0 because lite-05 clients block on it (spec §4.3).
/// </summary>
/// <param name="HopId">The responder's own origin id (0 = withheld); the receiver appends it to every chain.</param>
/// <param name="ActiveCount">How many <c>active</c> ANNOUNCE messages follow as the initial set.</param>
public sealed record AnnounceOk(ulong HopId, int ActiveCount) : IMessage<AnnounceOk>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasAnnounceOk();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WriteU53(HopId);
        writer.WriteVarInt(ActiveCount);
    }

    /// <inheritdoc />
    public static AnnounceOk DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var hop = reader.ReadVarInt();
        var count = reader.ReadCount(reader.Limits.MaxAnnounceCount, "ANNOUNCE_OK active count");
        return new AnnounceOk(hop, count);
    }
}
