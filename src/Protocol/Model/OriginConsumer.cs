using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A consuming view of an <see cref="Origin"/>: paths are relative to <see cref="Root"/> and only broadcasts
/// under one of the <see cref="Allowed"/> prefixes (the session's subscribe grants) are visible.
/// </summary>
public sealed class OriginConsumer
{
    internal OriginConsumer(Origin origin, MoqPath root, IReadOnlyList<MoqPath> allowed)
    {
        Origin = origin;
        Root = root;
        Allowed = allowed;
    }

    /// <summary>The table behind the view.</summary>
    public Origin Origin { get; }

    /// <summary>The absolute path every relative path is joined to.</summary>
    public MoqPath Root { get; }

    /// <summary>Prefixes (relative to the root) that are visible.</summary>
    public IReadOnlyList<MoqPath> Allowed { get; }

    /// <summary>True when <paramref name="path"/> (relative) is visible.</summary>
    public bool IsAllowed(MoqPath path) => Allowed.Any(path.HasPrefix);

    /// <summary>True when something under <paramref name="prefix"/> could be visible.</summary>
    public bool CanSeeUnder(MoqPath prefix) => Allowed.Any(a => a.Overlaps(prefix));

    /// <summary>The broadcast at a relative path, or null when absent or not visible.</summary>
    public BroadcastConsumer? Consume(MoqPath path) => IsAllowed(path) ? Origin.Find(Root.Join(path)) : null;

    /// <summary>The active publication at a relative path, or null.</summary>
    public Publication? FindPublication(MoqPath path) => IsAllowed(path) ? Origin.FindPublication(Root.Join(path)) : null;

    /// <summary>A feed of announcements under a relative prefix.</summary>
    public AnnouncedConsumer Announced(MoqPath prefix = default) => Origin.Listen(Root, prefix, Allowed);
}
