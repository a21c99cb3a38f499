using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// SESSION_INFO (lite-01/02, on the legacy session stream; spec §4.1). The clients read and discard
/// it; the relay may simply never send one.
/// </summary>
/// <param name="Bitrate">Estimated bits per second, 0 = unknown.</param>
public sealed record SessionInfo(ulong Bitrate) : IMessage<SessionInfo>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.UsesLegacySetup();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version) => writer.WriteU53(Bitrate);

    /// <inheritdoc />
    public static SessionInfo DecodeBody(ref MessageReader reader, MoqVersion version) => new(reader.ReadVarInt());
}
