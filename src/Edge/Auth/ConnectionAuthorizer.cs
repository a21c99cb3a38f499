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

    /// <summary>
    /// An authorizer for <paramref name="keys"/> (null = no key: tokens are refused) and the comma-separated
    /// <paramref name="publicPrefixes"/> (null = the default: <c>anon</c> without a key, none with one).
    /// </summary>
    public static ConnectionAuthorizer Create(KeyRing? keys, string? publicPrefixes, AuthFailures failures, ILoggerFactory loggers, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        return new ConnectionAuthorizer(
            keys is null ? null : new TokenVerifier(keys, time),
            PublicAccess.Parse(publicPrefixes ?? (keys is null ? "anon" : "")),
            failures,
            loggers.CreateLogger<ConnectionAuthorizer>());
    }

    /// <summary>An authorizer from <c>Auth:Key</c> (file or <c>kid</c> directory) and <c>Auth:Public</c>.</summary>
    /// <exception cref="KeyLoadException">The key file is missing or unusable (e.g. an EdDSA key).</exception>
    public static ConnectionAuthorizer FromConfiguration(IConfiguration configuration, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Create(OpenKeys(configuration), configuration["Auth:Public"], new AuthFailures(), loggers);
    }

    /// <summary>The key ring named by <c>Auth:Key</c>, or null when none is configured.</summary>
    /// <exception cref="KeyLoadException">The key file is missing or unusable.</exception>
    public static KeyRing? OpenKeys(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var keyPath = configuration["Auth:Key"];
        return string.IsNullOrWhiteSpace(keyPath) ? null : KeyRing.Open(keyPath);
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
