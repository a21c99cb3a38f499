using MoqCluster.Protocol.Model;

namespace MoqCluster.Grains;

/// <summary>
/// Where a grain takes a broadcast from: a local publisher on this edge, or another edge over a cluster link.
/// </summary>
/// <param name="NodeId">The edge that publishes it.</param>
/// <param name="Epoch">The directory epoch of that publication; newest wins.</param>
/// <param name="Hops">The hop chain to announce locally.</param>
/// <param name="IsLocal">True for a publisher connected to this edge.</param>
/// <param name="Resolve">
/// Opens the source broadcast; for a remote edge this waits for the cluster link, so it may fail and be retried.
/// </param>
/// <param name="Identity">For a local route, the publisher's broadcast: a replacement on this edge is a new source.</param>
/// <param name="SessionLost">
/// For a remote route, the task that completes when the link session carrying the source closes: a track that ends
/// because its link died did not end deliberately, so the grain keeps it for the next route instead of ending it.
/// </param>
public sealed record GrainRoute(string NodeId, long Epoch, IReadOnlyList<ulong> Hops, bool IsLocal, Func<CancellationToken, ValueTask<BroadcastConsumer>> Resolve, object? Identity = null, Func<Task>? SessionLost = null)
{
    /// <summary>
    /// True when both routes read the same publication: the same local publisher (its directory epoch may be learned
    /// later), or the same edge and epoch.
    /// </summary>
    public bool SameSource(GrainRoute? other)
    {
        if (other is null || other.IsLocal != IsLocal)
            return false;
        return IsLocal ? ReferenceEquals(other.Identity, Identity) : other.NodeId == NodeId && other.Epoch == Epoch;
    }
}
