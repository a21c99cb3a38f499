using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>GOAWAY (lite-04+; spec §4.8): the peer must open no new streams and should move on.</summary>
/// <param name="NewSessionUri">Where to reconnect; empty = just close.</param>
public sealed record GoAway(string NewSessionUri) : IMessage<GoAway>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasGoAway();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version) => writer.WriteString(NewSessionUri);

    /// <inheritdoc />
    public static GoAway DecodeBody(ref MessageReader reader, MoqVersion version) => new(reader.ReadString());
}
