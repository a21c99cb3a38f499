namespace MoqCluster.Edge.Auth;

/// <summary>The outcome of authorizing a connection: a grant, or a failure with its HTTP status.</summary>
public sealed record AccessDecision
{
    private AccessDecision(AccessGrant? grant, AuthFailure? failure)
    {
        Grant = grant;
        Failure = failure;
    }

    /// <summary>What the session may do; null when refused.</summary>
    public AccessGrant? Grant { get; }

    /// <summary>Why the session was refused; null when allowed.</summary>
    public AuthFailure? Failure { get; }

    /// <summary>True when the session may proceed.</summary>
    public bool IsAllowed => Grant is not null;

    /// <summary>200 when allowed, else the failure's 401/403.</summary>
    public int StatusCode => Failure?.StatusCode ?? 200;

    /// <summary>An allowed session.</summary>
    public static AccessDecision Allow(AccessGrant grant) => new(grant ?? throw new ArgumentNullException(nameof(grant)), null);

    /// <summary>A refused session.</summary>
    public static AccessDecision Refuse(AuthFailure failure) => new(null, failure ?? throw new ArgumentNullException(nameof(failure)));
}
