using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// TRACK_INFO (lite-05+): the publisher's immutable track properties, answering <see cref="TrackRequest"/>
/// (spec §4.5). Cache it per (broadcast, track).
/// </summary>
/// <param name="Priority">Publisher priority (tie-breaker).</param>
/// <param name="Ordered">Publisher ordering.</param>
/// <param name="MaxLatencyMs">How long the publisher keeps non-latest groups, in ms.</param>
/// <param name="Timescale">Timestamp units per second; never 0 (the clients reject it).</param>
public sealed record TrackInfo(byte Priority, bool Ordered, ulong MaxLatencyMs, ulong Timescale) : IMessage<TrackInfo>
{
    /// <summary>What the relay synthesises for tracks from lite-03/04 publishers (spec §5.9).</summary>
    public static TrackInfo Synthesized { get; } = new(0, false, 5000, 1000);

    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasTrackInfo();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        if (Timescale == 0)
            throw new ProtocolException(MoqErrorCode.Encode, "TRACK_INFO timescale must be non-zero");
        writer.WriteU8(Priority);
        writer.WriteBool(Ordered);
        writer.WriteU53(MaxLatencyMs);
        writer.WriteU53(Timescale);
    }

    /// <inheritdoc />
    public static TrackInfo DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var info = new TrackInfo(reader.ReadU8(), reader.ReadBool(), reader.ReadVarInt(), reader.ReadVarInt());
        if (info.Timescale == 0)
            throw new DecodeException("TRACK_INFO timescale is 0");
        return info;
    }
}
