namespace MoqCluster.Protocol.Messages;

/// <summary>
/// A publisher → subscriber message on a Subscribe stream: <see cref="SubscribeOk"/> (lite-01…04),
/// <see cref="SubscribeDrop"/> (lite-03+), <see cref="SubscribeStart"/> and <see cref="SubscribeEnd"/>
/// (lite-05+). Encode and decode them through <see cref="SubscribeResponses"/>.
/// </summary>
public interface ISubscribeResponse;
