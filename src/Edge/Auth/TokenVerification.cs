namespace MoqCluster.Edge.Auth;

/// <summary>The result of verifying a token: its claims, or why it was rejected.</summary>
/// <param name="Claims">The verified claims; null when rejected.</param>
/// <param name="Failure">Why the token was rejected; null when valid.</param>
/// <param name="Detail">A short reason safe to log; null when valid.</param>
public sealed record TokenVerification(TokenClaims? Claims, AuthFailureKind? Failure, string? Detail)
{
    /// <summary>True when the token is valid.</summary>
    public bool IsValid => Claims is not null;

    /// <summary>A valid token.</summary>
    public static TokenVerification Valid(TokenClaims claims) => new(claims, null, null);

    /// <summary>A rejected token.</summary>
    public static TokenVerification Rejected(AuthFailureKind kind, string detail) => new(null, kind, detail);
}
