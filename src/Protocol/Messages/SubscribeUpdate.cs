using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// SUBSCRIBE_UPDATE (lite-03+): replaces every preference of the subscription, subscriber →
/// publisher, any number of times after SUBSCRIBE (spec §4.4).
/// </summary>
/// <param name="Priority">Subscriber priority.</param>
/// <param name="Ordered">True = oldest group first.</param>
/// <param name="MaxLatencyMs">Max latency in ms.</param>
/// <param name="StartGroup">First group; null = latest.</param>
/// <param name="EndGroup">Last group (inclusive); null = unbounded.</param>
public sealed record SubscribeUpdate(
    byte Priority,
    bool Ordered = false,
    ulong MaxLatencyMs = 0,
    ulong? StartGroup = null,
    ulong? EndGroup = null) : IMessage<SubscribeUpdate>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasSubscribeOptions();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WriteU8(Priority);
        writer.WriteBool(Ordered);
        writer.WriteU53(MaxLatencyMs);
        writer.WriteOptionalGroupU53(StartGroup);
        writer.WriteOptionalGroupU53(EndGroup);
    }

    /// <inheritdoc />
    public static SubscribeUpdate DecodeBody(ref MessageReader reader, MoqVersion version)
        => new(reader.ReadU8(), reader.ReadBool(), reader.ReadVarInt(), reader.ReadOptionalGroup(), reader.ReadOptionalGroup());
}
