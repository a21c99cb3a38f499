using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Auth;

/// <summary>
/// Decides whether a connection may proceed, as moq-relay does (spec §6): a token is verified and its claims scoped
/// to the connection path; a tokenless client gets the public prefixes, if any. Every refusal is logged as one line
/// (never with token contents) and counted in <see cref="AuthFailures"/>.
/// </summary>
public sealed class ConnectionAuthorizer
{
    private readonly TokenVerifier? _verifier;
    private readonly ILogger<ConnectionAuthorizer> _logger;

    /// <summary>Creates the authorizer.</summary>
    /// <param name="verifier">Verifies tokens; null when no key is configured (then every token is refused).</param>
    /// <param name="publicAccess">Prefixes open to tokenless clients.</param>
    /// <param name="failures">Where refusals are counted.</param>
    /// <param name="logger">Receives one line per refusal.</param>
    public ConnectionAuthorizer(TokenVerifier? verifier, PublicAccess publicAccess, AuthFailures failures, ILogger<ConnectionAuthorizer> logger)
    {
        _verifier = verifier;
        Public = publicAccess ?? throw new ArgumentNullException(nameof(publicAccess));
        Failures = failures ?? throw new ArgumentNullException(nameof(failures));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Prefixes open to tokenless clients.</summary>
    public PublicAccess Public { get; }

    /// <summary>Refusal counters.</summary>
    public AuthFailures Failures { get; }

    /// <summary>Authorizes a session at <paramref name="path"/> with an optional token (empty = none).</summary>
    public async ValueTask<AccessDecision> AuthorizeAsync(MoqPath path, string? jwt)
    {
        if (string.IsNullOrEmpty(jwt))
        {
            var anonymous = Public.Grant(path);
            if (anonymous is null)
                return Refuse(AuthFailureKind.MissingToken, path, Public.Prefixes.Count == 0 ? "no token" : "no token, and no public prefix covers the path");
            return anonymous.IsEmpty
                ? Refuse(AuthFailureKind.NothingGranted, path, "no public prefix overlaps the path")
                : AccessDecision.Allow(anonymous);
        }

        if (_verifier is null)
            return Refuse(AuthFailureKind.TokensNotAccepted, path, "token sent but no Auth:Key is configured");
        var verification = await _verifier.VerifyAsync(jwt).ConfigureAwait(false);
        if (verification.Claims is not { } claims)
            return Refuse(verification.Failure!.Value, path, verification.Detail ?? "invalid token");

        var grant = AccessGrant.Scope(path, claims.Root, claims.Put, claims.Get);
        if (grant is null)
            return Refuse(AuthFailureKind.RootMismatch, path, $"token root /{claims.Root} does not overlap the path");
        if (grant.IsEmpty)
            return Refuse(AuthFailureKind.NothingGranted, path, "token grants nothing at this path");
        return AccessDecision.Allow(grant with { ExpiresAt = claims.ExpiresAt });
    }

    private AccessDecision Refuse(AuthFailureKind kind, MoqPath path, string detail)
    {
        var failure = new AuthFailure(kind, path, detail);
        _logger.LogInformation("auth refused at /{Path}: HTTP {Status} {Kind}: {Detail}", path, failure.StatusCode, kind, detail);
        Failures.Record(failure);
        return AccessDecision.Refuse(failure);
    }
}
