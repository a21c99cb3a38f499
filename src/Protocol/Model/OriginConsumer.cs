using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A consuming view of an <see cref="Origin"/>: paths are relative to <see cref="OriginView.Root"/> and only broadcasts
/// under one of the <see cref="OriginView.Allowed"/> prefixes (the session's subscribe grants) are visible.
/// </summary>
public sealed class OriginConsumer : OriginView
{
    internal OriginConsumer(Origin origin, MoqPath root, IReadOnlyList<MoqPath> allowed)
        : base(origin, root, allowed)
    {
    }

    /// <summary>True when something under <paramref name="prefix"/> could be visible.</summary>
    public bool CanSeeUnder(MoqPath prefix) => Allowed.Any(a => a.Overlaps(prefix));

    /// <summary>The broadcast at a relative path, or null when absent or not visible.</summary>
    public BroadcastConsumer? Consume(MoqPath path) => IsAllowed(path) ? Origin.Find(Root.Join(path)) : null;

    /// <summary>The active publication at a relative path, or null.</summary>
    public Publication? FindPublication(MoqPath path) => IsAllowed(path) ? Origin.FindPublication(Root.Join(path)) : null;

    /// <summary>A feed of announcements under a relative prefix.</summary>
    public AnnouncedConsumer Announced(MoqPath prefix = default) => Origin.Listen(Root, prefix, Allowed);
}
