using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// SUBSCRIBE_DROP (lite-03+; spec §4.4): groups in <see cref="StartGroup"/>..<see cref="EndGroup"/>
/// (inclusive, plain sequences without the +1 encoding) will not be delivered. Typed: type 1 on
/// lite-03/04, type 2 on lite-05. The relay never needs to send it on lite-03/04.
/// </summary>
/// <param name="StartGroup">First dropped sequence.</param>
/// <param name="EndGroup">Last dropped sequence (inclusive).</param>
/// <param name="ErrorCode">Why the groups were dropped.</param>
public sealed record SubscribeDrop(ulong StartGroup, ulong EndGroup, ulong ErrorCode) : ITypedMessage<SubscribeDrop>, ISubscribeResponse
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasSubscribeOptions();

    /// <inheritdoc />
    public static bool IsTypedIn(MoqVersion version) => ExistsIn(version);

    /// <inheritdoc />
    public static ulong TypeCode(MoqVersion version) => version.HasSubscribeStart() ? 2UL : 1UL;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WriteU53(StartGroup);
        writer.WriteU53(EndGroup);
        writer.WriteVarInt(ErrorCode);
    }

    /// <inheritdoc />
    public static SubscribeDrop DecodeBody(ref MessageReader reader, MoqVersion version)
        => new(reader.ReadVarInt(), reader.ReadVarInt(), reader.ReadVarInt());
}
