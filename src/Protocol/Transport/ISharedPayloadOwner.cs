namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Owns memory that a send queue keeps by reference instead of copying (a relay's pooled frame payloads):
/// the queue takes a hold when it enqueues the memory and releases it once the bytes are sent or dropped,
/// so the owner never reuses memory a queue still points at.
/// </summary>
internal interface ISharedPayloadOwner
{
    /// <summary>Called under the queue's lock when memory of this owner is enqueued.</summary>
    void AddHold();

    /// <summary>Called once per <see cref="AddHold"/> when that memory left the queue.</summary>
    void ReleaseHold();
}
