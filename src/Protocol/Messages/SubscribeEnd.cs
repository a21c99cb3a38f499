using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// SUBSCRIBE_END (lite-05+, type 1; spec §4.4, pitfall §8.10): the track finished.
/// </summary>
/// <param name="Group">Exclusive end: the first sequence that will never be delivered (0 = nothing was produced).</param>
public sealed record SubscribeEnd(ulong Group) : ITypedMessage<SubscribeEnd>, ISubscribeResponse
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasSubscribeStart();

    /// <inheritdoc />
    public static bool IsTypedIn(MoqVersion version) => ExistsIn(version);

    /// <inheritdoc />
    public static ulong TypeCode(MoqVersion version) => 1;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version) => writer.WriteU53(Group);

    /// <inheritdoc />
    public static SubscribeEnd DecodeBody(ref MessageReader reader, MoqVersion version) => new(reader.ReadVarInt());
}
