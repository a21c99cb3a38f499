using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MoqCluster.Edge.Auth;

/// <summary>
/// Verifies moq-relay tokens (spec §6.2) with <see cref="JsonWebTokenHandler"/>: the signature with exactly the
/// key's algorithm; no audience, issuer or <c>nbf</c> checks; <c>exp</c> checked when present (no clock skew);
/// a token granting nothing is invalid; the key's <c>scope</c> must cover every grant.
/// </summary>
public sealed class TokenVerifier
{
    private readonly KeyRing _keys;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>Creates a verifier over <paramref name="keys"/>.</summary>
    /// <param name="keys">Where keys come from.</param>
    /// <param name="time">The clock for <c>exp</c>; the system clock when null.</param>
    public TokenVerifier(KeyRing keys, TimeProvider? time = null)
    {
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Verifies <paramref name="jwt"/> (compact JWS).</summary>
    public async Task<TokenVerification> VerifyAsync(string jwt)
    {
        JsonWebToken token;
        try
        {
            token = new JsonWebToken(jwt);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return TokenVerification.Rejected(AuthFailureKind.MalformedToken, "not a compact JWS");
        }

        var key = _keys.Resolve(token.Kid, out var keyFailure);
        if (key is null)
            return TokenVerification.Rejected(AuthFailureKind.UnknownKey, keyFailure ?? "no key");

        if (token.Alg != key.Algorithm.Name)
            return TokenVerification.Rejected(AuthFailureKind.InvalidSignature, $"token algorithm is not the key's {key.Algorithm.Name}");

        var parameters = new TokenValidationParameters
        {
            IssuerSigningKey = key.SecurityKey,
            ValidAlgorithms = [key.Algorithm.Name],
            ValidateAudience = false,
            ValidateIssuer = false,
            ValidateLifetime = false, // exp is checked below; nbf is ignored as moq-relay does
            RequireExpirationTime = false,
            ValidateIssuerSigningKey = false,
            RequireSignedTokens = true,
            TryAllIssuerSigningKeys = true,
        };
        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
            return TokenVerification.Rejected(Classify(result.Exception), Describe(result.Exception, key));

        TokenClaims claims;
        try
        {
            claims = TokenClaims.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        }
        catch (FormatException ex)
        {
            return TokenVerification.Rejected(AuthFailureKind.MalformedToken, ex.Message);
        }
        if (claims.IsExpiredAt(_time.GetUtcNow()))
            return TokenVerification.Rejected(AuthFailureKind.Expired, "token expired");
        if (claims.GrantsNothing)
            return TokenVerification.Rejected(AuthFailureKind.NoGrants, "token grants neither put nor get");
        if (key.Scope is { } scope && !scope.Allows(claims))
            return TokenVerification.Rejected(AuthFailureKind.ScopeExceeded, "token grants more than the key's scope");
        return TokenVerification.Valid(claims);
    }

    private static AuthFailureKind Classify(Exception? error) => error switch
    {
        SecurityTokenMalformedException or SecurityTokenDecompressionFailedException => AuthFailureKind.MalformedToken,
        _ => AuthFailureKind.InvalidSignature,
    };

    private static string Describe(Exception? error, JwkKey key) => error switch
    {
        SecurityTokenInvalidAlgorithmException => $"token algorithm is not the key's {key.Algorithm.Name}",
        SecurityTokenMalformedException => "malformed token",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "signature does not verify",
        null => "invalid token",
        _ => $"invalid token ({error.GetType().Name})",
    };
}
