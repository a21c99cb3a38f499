using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Messages;

/// <summary>
/// A message that travels as <c>Type (i)</c>, <c>Length (i)</c>, body (publisher → subscriber
/// responses on the Subscribe stream from lite-03). The type code can change between versions.
/// </summary>
/// <typeparam name="TSelf">The implementing message type.</typeparam>
public interface ITypedMessage<TSelf> : IMessage<TSelf> where TSelf : ITypedMessage<TSelf>
{
    /// <summary>The type code used in <paramref name="version"/>; only valid when the message is typed there.</summary>
    static abstract ulong TypeCode(MoqVersion version);

    /// <summary>True when the message is typed in <paramref name="version"/> (as opposed to untyped or absent).</summary>
    static abstract bool IsTypedIn(MoqVersion version);
}
