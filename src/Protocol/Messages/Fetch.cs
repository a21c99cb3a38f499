using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// FETCH (lite-05+ as implemented; spec §4.6): one whole group, answered with its frames in the
/// lite-05 frame format and FIN. lite-03/04 peers never serve it, so it is not defined there.
/// </summary>
/// <param name="Broadcast">Broadcast path.</param>
/// <param name="Track">Track name.</param>
/// <param name="Priority">Subscriber priority.</param>
/// <param name="Group">The group sequence wanted.</param>
public sealed record Fetch(MoqPath Broadcast, string Track, byte Priority, ulong Group) : IMessage<Fetch>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasTrackInfo();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WritePath(Broadcast);
        writer.WriteString(Track);
        writer.WriteU8(Priority);
        writer.WriteU53(Group);
    }

    /// <inheritdoc />
    public static Fetch DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var broadcast = reader.ReadPath();
        var track = reader.ReadString();
        return new Fetch(broadcast, track, reader.ReadU8(), reader.ReadVarInt());
    }
}
