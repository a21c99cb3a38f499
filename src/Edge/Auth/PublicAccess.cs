using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Auth;

/// <summary>Anonymous access: a tokenless client gets <c>put</c>/<c>get</c> = the public prefixes under root <c>""</c>.</summary>
public sealed class PublicAccess(IReadOnlyList<MoqPath> prefixes)
{
    /// <summary>The public prefixes (absolute).</summary>
    public IReadOnlyList<MoqPath> Prefixes { get; } = prefixes;

    /// <summary>The grant for an anonymous session at <paramref name="connectionPath"/>; null or empty when none applies.</summary>
    public AccessGrant? Grant(MoqPath connectionPath)
        => Prefixes.Count == 0 ? null : AccessGrant.Scope(connectionPath, MoqPath.Empty, Prefixes, Prefixes);

    /// <summary>Parses <c>--Auth:Public=a,b</c>.</summary>
    public static PublicAccess Parse(string? value)
        => new((value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(MoqPath.Parse).ToList());
}
