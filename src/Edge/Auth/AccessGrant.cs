using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Auth;

/// <summary>
/// What one session may do, relative to its connection path: the prefixes it may publish under and the
/// prefixes it may subscribe to (spec §6.3).
/// </summary>
/// <param name="Root">The connection path (session root), normalised.</param>
/// <param name="Publish">Publish prefixes relative to <paramref name="Root"/>.</param>
/// <param name="Subscribe">Subscribe prefixes relative to <paramref name="Root"/>.</param>
public sealed record AccessGrant(MoqPath Root, IReadOnlyList<MoqPath> Publish, IReadOnlyList<MoqPath> Subscribe)
{
    /// <summary>True when the session may do nothing at all (neither publish nor subscribe).</summary>
    public bool IsEmpty => Publish.Count == 0 && Subscribe.Count == 0;

    /// <summary>True for another edge of the cluster (a link session): served local publishers only.</summary>
    public bool IsCluster { get; init; }

    /// <summary>When the credentials behind this grant expire (the token's <c>exp</c>); the session is closed then. Null = never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>
    /// Scopes claims (<paramref name="claimRoot"/>, <paramref name="put"/>, <paramref name="get"/>) to a connection path,
    /// as moq-relay does. Returns null when the root and the path do not overlap (reject with 401).
    /// </summary>
    public static AccessGrant? Scope(MoqPath connectionPath, MoqPath claimRoot, IEnumerable<MoqPath> put, IEnumerable<MoqPath> get)
    {
        if (connectionPath.StripPrefix(claimRoot) is { } below)
            return new AccessGrant(connectionPath, Narrow(put, below), Narrow(get, below));
        if (claimRoot.StripPrefix(connectionPath) is { } above)
            return new AccessGrant(connectionPath, Widen(put, above), Widen(get, above));
        return null;
    }

    /// <summary>The connection path lies below the claim root by <paramref name="below"/>: keep grants that reach it.</summary>
    private static List<MoqPath> Narrow(IEnumerable<MoqPath> grants, MoqPath below)
    {
        var result = new List<MoqPath>();
        foreach (var g in grants)
        {
            if (g.StripPrefix(below) is { } rest)
                Add(result, rest);
            else if (below.HasPrefix(g))
                Add(result, MoqPath.Empty);
        }
        return result;
    }

    /// <summary>The claim root lies below the connection path by <paramref name="above"/>: prefix every grant with it.</summary>
    private static List<MoqPath> Widen(IEnumerable<MoqPath> grants, MoqPath above)
    {
        var result = new List<MoqPath>();
        foreach (var g in grants)
            Add(result, above.Join(g));
        return result;
    }

    private static void Add(List<MoqPath> list, MoqPath path)
    {
        // A prefix already covered by a broader one adds nothing.
        if (list.Any(path.HasPrefix))
            return;
        list.RemoveAll(p => p.HasPrefix(path));
        list.Add(path);
    }
}
