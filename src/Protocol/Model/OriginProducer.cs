using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A publishing view of an <see cref="Origin"/>: paths are relative to <see cref="OriginView.Root"/> and must fall under
/// one of the <see cref="OriginView.Allowed"/> prefixes (the session's publish grants).
/// </summary>
public sealed class OriginProducer : OriginView
{
    internal OriginProducer(Origin origin, MoqPath root, IReadOnlyList<MoqPath> allowed)
        : base(origin, root, allowed)
    {
    }

    /// <summary>Publishes a broadcast at a relative path; null when the path is not allowed.</summary>
    public Publication? Publish(MoqPath path, BroadcastConsumer broadcast, IReadOnlyList<ulong>? hops = null)
        => IsAllowed(path) ? Origin.Publish(Root.Join(path), broadcast, hops) : null;

    /// <summary>Publishes a new broadcast at a relative path and returns its producer.</summary>
    public BroadcastProducer CreateBroadcast(MoqPath path)
    {
        var broadcast = new BroadcastProducer();
        if (Publish(path, broadcast.Consume()) is null)
            throw new ProtocolException(MoqErrorCode.Unauthorized, $"publishing '{path}' is not allowed");
        return broadcast;
    }
}
