using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// SUBSCRIBE: the first message on a Subscribe stream, subscriber → publisher (spec §4.4).
/// lite-01/02 carry only id, path, track and priority; the remaining fields exist from lite-03 and
/// are dropped when encoding for older versions (and read as defaults from them).
/// </summary>
/// <param name="Id">Chosen by the subscriber, unique per session; a full 62-bit value.</param>
/// <param name="Broadcast">Broadcast path (normalised).</param>
/// <param name="Track">Track name (not normalised).</param>
/// <param name="Priority">Subscriber priority; higher is more important.</param>
/// <param name="Ordered">lite-03+: true = oldest group first.</param>
/// <param name="MaxLatencyMs">lite-03+: how long non-latest groups stay wanted, in ms; 0 = only the latest.</param>
/// <param name="StartGroup">lite-03+: first group sequence; null = the latest.</param>
/// <param name="EndGroup">lite-03+: last group sequence (inclusive); null = unbounded.</param>
public sealed record Subscribe(
    ulong Id,
    MoqPath Broadcast,
    string Track,
    byte Priority,
    bool Ordered = false,
    ulong MaxLatencyMs = 0,
    ulong? StartGroup = null,
    ulong? EndGroup = null) : IMessage<Subscribe>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => true;

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WriteVarInt(Id);
        writer.WritePath(Broadcast);
        writer.WriteString(Track);
        writer.WriteU8(Priority);
        if (!version.HasSubscribeOptions())
            return;
        writer.WriteBool(Ordered);
        writer.WriteU53(MaxLatencyMs);
        writer.WriteOptionalGroupU53(StartGroup);
        writer.WriteOptionalGroupU53(EndGroup);
    }

    /// <inheritdoc />
    public static Subscribe DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var id = reader.ReadVarInt();
        var broadcast = reader.ReadPath();
        var track = reader.ReadString();
        var priority = reader.ReadU8();
        if (!version.HasSubscribeOptions())
            return new Subscribe(id, broadcast, track, priority);
        var ordered = reader.ReadBool();
        var latency = reader.ReadVarInt();
        var start = reader.ReadOptionalGroup();
        var end = reader.ReadOptionalGroup();
        return new Subscribe(id, broadcast, track, priority, ordered, latency, start, end);
    }
}
