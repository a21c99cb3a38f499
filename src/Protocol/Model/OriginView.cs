using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A scoped window on an <see cref="Origin"/>: paths are relative to <see cref="Root"/> and limited to the
/// <see cref="Allowed"/> prefixes (a session's grants). Base of the publishing and consuming views.
/// </summary>
public abstract class OriginView
{
    private protected OriginView(Origin origin, MoqPath root, IReadOnlyList<MoqPath> allowed)
    {
        Origin = origin;
        Root = root;
        Allowed = allowed;
    }

    /// <summary>The table behind the view.</summary>
    public Origin Origin { get; }

    /// <summary>The absolute path every relative path is joined to.</summary>
    public MoqPath Root { get; }

    /// <summary>Prefixes (relative to the root) within which the view works.</summary>
    public IReadOnlyList<MoqPath> Allowed { get; }

    /// <summary>True when <paramref name="path"/> (relative) lies under an allowed prefix.</summary>
    public bool IsAllowed(MoqPath path) => Allowed.Any(path.HasPrefix);
}
