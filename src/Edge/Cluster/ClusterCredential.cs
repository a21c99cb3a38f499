using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MoqCluster.Edge.Cluster;

/// <summary>
/// The credential edges present to each other on edge-to-edge links: a short-lived HS256 token signed with a
/// key derived from the shared <c>--Cluster:Secret</c>. A session holding one is served the edge's local
/// publishers at the root, and nothing it announces is accepted.
/// </summary>
public sealed class ClusterCredential
{
    private const string LinkClaim = "moqcluster";
    private readonly SymmetricSecurityKey _key;
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>Derives the signing key from the shared secret.</summary>
    public ClusterCredential(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _key = new SymmetricSecurityKey(SHA256.HashData(Encoding.UTF8.GetBytes("moqcluster-link:" + secret)));
    }

    /// <summary>A fresh link token, valid for <paramref name="lifetime"/> (default one day; links redial well within it).</summary>
    public string Issue(TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { [LinkClaim] = "link" },
            IssuedAt = now,
            NotBefore = now.AddMinutes(-5),
            Expires = now + (lifetime ?? TimeSpan.FromDays(1)),
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>True when <paramref name="jwt"/> is a valid link token for this cluster.</summary>
    public async ValueTask<bool> VerifyAsync(string? jwt)
    {
        if (string.IsNullOrEmpty(jwt))
            return false;
        var result = await _handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKey = _key,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
        }).ConfigureAwait(false);
        return result.IsValid && result.Claims.TryGetValue(LinkClaim, out var value) && value as string == "link";
    }
}
