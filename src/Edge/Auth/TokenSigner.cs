using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MoqCluster.Edge.Auth;

/// <summary>Signs moq-relay tokens with a <see cref="JwkKey"/> (header <c>alg</c> = the key's, <c>kid</c> when the key has one).</summary>
public static class TokenSigner
{
    /// <summary>Signs <paramref name="claims"/> with <paramref name="key"/>, returning the compact JWS.</summary>
    /// <exception cref="InvalidOperationException">
    /// The key may not sign (<c>key_ops</c>), has no private material, the claims grant nothing, or they exceed the key's scope.
    /// </exception>
    public static string Sign(JwkKey key, TokenClaims claims)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(claims);
        if (!key.CanSign)
            throw new InvalidOperationException("the key's key_ops do not allow 'sign'");
        if (!key.HasPrivateMaterial)
            throw new InvalidOperationException("the key has no private material (a public key cannot sign)");
        if (claims.GrantsNothing)
            throw new InvalidOperationException("a token must grant put or get (or both)");
        if (key.Scope is { } scope && !scope.Allows(claims))
            throw new InvalidOperationException("the claims exceed the key's scope");
        var credentials = new SigningCredentials(key.SecurityKey, key.Algorithm.Name);
        return new JsonWebTokenHandler().CreateToken(claims.ToJson(), credentials);
    }
}
