namespace MoqCluster.Edge.Auth;

/// <summary>The JWK key type an algorithm needs (<c>kty</c>).</summary>
public enum JwkKeyType
{
    /// <summary><c>oct</c>: a shared HMAC secret.</summary>
    Oct,

    /// <summary><c>EC</c>: an ECDSA key on P-256 or P-384.</summary>
    EC,

    /// <summary><c>RSA</c>: an RSA key (PKCS#1 v1.5 or PSS signatures).</summary>
    Rsa,

    /// <summary><c>OKP</c>: an Ed25519 key (EdDSA; not supported by this relay).</summary>
    Okp,
}

/// <summary>
/// A JWS algorithm as moq-token names it (spec §6.2) and what it needs from a key. The relay verifies with
/// exactly the key's algorithm, never the one a token's header asks for.
/// </summary>
/// <param name="Name">The JOSE name (<c>HS256</c>, <c>ES384</c>, …), also the IdentityModel algorithm id.</param>
/// <param name="KeyType">The key type the algorithm needs.</param>
/// <param name="Curve">The JWK curve name for EC keys (<c>P-256</c>, <c>P-384</c>), else null.</param>
/// <param name="Bytes">Secret length (oct), coordinate length (EC) or default modulus length (RSA) in bytes.</param>
public sealed record TokenAlgorithm(string Name, JwkKeyType KeyType, string? Curve, int Bytes)
{
    /// <summary>The algorithms tokens can be signed and verified with.</summary>
    public static IReadOnlyList<TokenAlgorithm> Supported { get; } =
    [
        new("HS256", JwkKeyType.Oct, null, 32),
        new("HS384", JwkKeyType.Oct, null, 48),
        new("HS512", JwkKeyType.Oct, null, 64),
        new("ES256", JwkKeyType.EC, "P-256", 32),
        new("ES384", JwkKeyType.EC, "P-384", 48),
        new("RS256", JwkKeyType.Rsa, null, 256),
        new("RS384", JwkKeyType.Rsa, null, 256),
        new("RS512", JwkKeyType.Rsa, null, 256),
        new("PS256", JwkKeyType.Rsa, null, 256),
        new("PS384", JwkKeyType.Rsa, null, 256),
        new("PS512", JwkKeyType.Rsa, null, 256),
    ];

    /// <summary>Shortest accepted HMAC secret, in bytes (moq-token's minimum).</summary>
    public const int MinimumSecretBytes = 32;

    /// <summary>Looks up <paramref name="name"/> (case-sensitive, as in JOSE).</summary>
    /// <exception cref="KeyLoadException">EdDSA (no support in Microsoft.IdentityModel) or an unknown name.</exception>
    public static TokenAlgorithm Find(string? name)
    {
        if (name == "EdDSA")
            throw new KeyLoadException(EdDsaUnsupported);
        return Supported.FirstOrDefault(a => a.Name == name)
            ?? throw new KeyLoadException($"unsupported JWK alg '{name}' (supported: {string.Join(", ", Supported.Select(a => a.Name))})");
    }

    /// <summary>The message for EdDSA keys.</summary>
    internal const string EdDsaUnsupported =
        "EdDSA (Ed25519) keys are not supported by this relay: Microsoft.IdentityModel has no EdDSA verifier. " +
        "Use an ES256 key instead (token generate --alg ES256).";
}
