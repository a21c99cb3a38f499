using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// TRACK (lite-05+): the subscriber's request on a Track stream; answered by one
/// <see cref="TrackInfo"/> then FIN, or a reset (spec §4.5).
/// </summary>
/// <param name="Broadcast">Broadcast path (normalised).</param>
/// <param name="Track">Track name.</param>
public sealed record TrackRequest(MoqPath Broadcast, string Track) : IMessage<TrackRequest>
{
    /// <inheritdoc />
    public static bool ExistsIn(MoqVersion version) => version.HasTrackInfo();

    /// <inheritdoc />
    public void EncodeBody(MessageWriter writer, MoqVersion version)
    {
        writer.WritePath(Broadcast);
        writer.WriteString(Track);
    }

    /// <inheritdoc />
    public static TrackRequest DecodeBody(ref MessageReader reader, MoqVersion version)
    {
        var broadcast = reader.ReadPath();
        return new TrackRequest(broadcast, reader.ReadString());
    }
}
