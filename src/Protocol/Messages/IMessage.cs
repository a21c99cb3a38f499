using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// A moq-lite message whose body layout depends on the negotiated version. Framing
/// (<c>Message Length (i)</c>, or <c>Type (i)</c> + length for typed messages) is added by
/// <see cref="MessageCodec"/>, so implementations only read and write the body.
/// </summary>
/// <typeparam name="TSelf">The implementing message type.</typeparam>
public interface IMessage<TSelf> where TSelf : IMessage<TSelf>
{
    /// <summary>True when the message is defined in <paramref name="version"/>.</summary>
    static abstract bool ExistsIn(MoqVersion version);

    /// <summary>Writes the body (without any length prefix) in the layout of <paramref name="version"/>.</summary>
    void EncodeBody(MessageWriter writer, MoqVersion version);

    /// <summary>Reads a body in the layout of <paramref name="version"/>; the caller checks for trailing bytes.</summary>
    static abstract TSelf DecodeBody(ref MessageReader reader, MoqVersion version);
}
