using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// SUBSCRIBE_OK (lite-01…04; spec §4.4), the first and only response the relay sends on lite-01…04.
/// lite-01: untyped, body = priority byte. lite-02: untyped, empty body (the whole message is
/// <c>00</c>). lite-03/04: typed (type 0) with every publisher preference.
/// </summary>
/// <param name="Priority">Publisher priority (lite-01, lite-03/04; decoded as 0 on lite-02).</param>
/// <param name="Ordered">lite-03/04: publisher ordering.</param>
/// <param name="MaxLatencyMs">lite-03/04: publisher max latency in ms.</param>
/// <param name="StartGroup">lite-03/04: first group; null = none.</param>
/// <param name="EndGroup">lite-03/04: last group; null = none.</param>
public sealed record SubscribeOk(
    byte Priority = 0,
    bool Ordered = false,
    ulong MaxLatencyMs = 0,
    ulong? StartGroup = null,
    ulong? EndGroup = null) : ITypedMessage<SubscribeOk>, ISubscribeResponse
{
    /// <summary>Type code on lite-03/04.</summary>
    public const ulong TypedCode = 0;

    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version < MoqVersion.Lite05;

    /// <inheritdoc />
    public static bool IsTypedIn(MoqVersion version) => version.HasTypedSubscribeOk();

    /// <inheritdoc />
    public static ulong TypeCode(MoqVersion version) => TypedCode;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        switch (version)
        {
            case MoqVersion.Lite01:
                writer.WriteU8(Priority);
                break;
            case MoqVersion.Lite02:
                break;
            default:
                writer.WriteU8(Priority);
                writer.WriteBool(Ordered);
                writer.WriteU53(MaxLatencyMs);
                writer.WriteOptionalGroupU53(StartGroup);
                writer.WriteOptionalGroupU53(EndGroup);
                break;
        }
    }

    /// <inheritdoc />
    public static SubscribeOk DecodeBody(ref MessageReader reader, MoqVersion version) => version switch
    {
        MoqVersion.Lite01 => new SubscribeOk(reader.ReadU8()),
        MoqVersion.Lite02 => new SubscribeOk(),
        _ => new SubscribeOk(reader.ReadU8(), reader.ReadBool(), reader.ReadVarInt(), reader.ReadOptionalGroup(), reader.ReadOptionalGroup()),
    };
}
