namespace MoqCluster.Edge.Auth;

/// <summary>Why a connection was refused; each maps to HTTP 401 or 403 on the upgrade (spec §6.1).</summary>
public enum AuthFailureKind
{
    /// <summary>No token, and no public prefix applies (401).</summary>
    MissingToken,

    /// <summary>A token was sent but the relay has no key configured (401).</summary>
    TokensNotAccepted,

    /// <summary>Not a compact JWS, or a claim has the wrong type (401).</summary>
    MalformedToken,

    /// <summary>No usable key: missing or unknown <c>kid</c>, unreadable key file, key not allowed to verify (401).</summary>
    UnknownKey,

    /// <summary>Signature or algorithm does not match the key (401).</summary>
    InvalidSignature,

    /// <summary><c>exp</c> has passed (401).</summary>
    Expired,

    /// <summary>The token has neither <c>put</c> nor <c>get</c> (401).</summary>
    NoGrants,

    /// <summary>The token grants more than the key's <c>scope</c> allows (401).</summary>
    ScopeExceeded,

    /// <summary>The connection path and the token root do not overlap (401).</summary>
    RootMismatch,

    /// <summary>Valid credentials that grant nothing at this connection path (403).</summary>
    NothingGranted,
}
