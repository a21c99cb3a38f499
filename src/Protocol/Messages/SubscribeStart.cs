using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// SUBSCRIBE_START (lite-05+, type 0; spec §4.4): the first group sequence that will be delivered,
/// sent once when it is known. Acceptance itself is implicit on lite-05.
/// </summary>
/// <param name="Group">First delivered sequence (plain, no +1).</param>
public sealed record SubscribeStart(ulong Group) : ITypedMessage<SubscribeStart>, ISubscribeResponse
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasSubscribeStart();

    /// <inheritdoc />
    public static bool IsTypedIn(MoqVersion version) => ExistsIn(version);

    /// <inheritdoc />
    public static ulong TypeCode(MoqVersion version) => 0;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version) => writer.WriteU53(Group);

    /// <inheritdoc />
    public static SubscribeStart DecodeBody(ref MessageReader reader, MoqVersion version) => new(reader.ReadVarInt());
}
