using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Auth;

/// <summary>One refused connection. Never carries token contents.</summary>
/// <param name="Kind">Why it was refused.</param>
/// <param name="Path">The connection path.</param>
/// <param name="Detail">A short explanation safe to log (e.g. "no key with kid 'x'").</param>
public sealed record AuthFailure(AuthFailureKind Kind, MoqPath Path, string Detail)
{
    /// <summary>The HTTP status for the upgrade response: 403 when valid credentials grant nothing here, else 401.</summary>
    public int StatusCode => Kind == AuthFailureKind.NothingGranted ? 403 : 401;
}
