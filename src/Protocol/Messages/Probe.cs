using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>PROBE (lite-03+; spec §4.7): a publisher's periodic estimate on the Probe stream.</summary>
/// <param name="Bitrate">Bits per second, 0 = unknown.</param>
/// <param name="RttMs">lite-04+: round-trip time in ms, 0 = unknown (a measured 0 is sent as 1); not on the wire on lite-03.</param>
public sealed record Probe(ulong Bitrate, ulong RttMs = 0) : IMessage<Probe>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasProbe();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WriteU53(Bitrate);
        if (version.HasProbeRtt())
            writer.WriteU53(RttMs);
    }

    /// <inheritdoc />
    public static Probe DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var bitrate = reader.ReadVarInt();
        return new Probe(bitrate, version.HasProbeRtt() ? reader.ReadVarInt() : 0);
    }
}
