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
public sealed record GrainRoute(string NodeId, long Epoch, IReadOnlyList<ulong> Hops, bool IsLocal, Func<CancellationToken, ValueTask<BroadcastConsumer>> Resolve)
{
    /// <summary>True when both routes read the same publication (same edge and epoch).</summary>
    public bool SameSource(GrainRoute? other) => other is not null && other.NodeId == NodeId && other.Epoch == Epoch && other.IsLocal == IsLocal;
}
