using System.Text.Json;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Auth;

/// <summary>
/// A ceiling embedded in a key (<c>scope</c> in the JWK): every token signed by the key must grant only paths
/// at or below the scope's prefixes, per role (spec §6.2). Both sides are resolved against their own root first,
/// so <c>root=demo, put=room</c> and <c>put=demo/room</c> mean the same; a role the scope leaves empty allows nothing.
/// </summary>
/// <param name="Root">Base path of the scope's prefixes.</param>
/// <param name="Put">Publish prefixes tokens may grant (relative to <paramref name="Root"/>).</param>
/// <param name="Get">Subscribe prefixes tokens may grant (relative to <paramref name="Root"/>).</param>
public sealed record KeyScope(MoqPath Root, IReadOnlyList<MoqPath> Put, IReadOnlyList<MoqPath> Get)
{
    /// <summary>True when every grant of <paramref name="claims"/> lies within this scope.</summary>
    public bool Allows(TokenClaims claims)
        => Covers(Put, claims.Root, claims.Put) && Covers(Get, claims.Root, claims.Get);

    private bool Covers(IReadOnlyList<MoqPath> allowed, MoqPath claimRoot, IReadOnlyList<MoqPath> requested)
        => requested.All(r => allowed.Any(a => claimRoot.Join(r).HasPrefix(Root.Join(a))));

    /// <summary>Reads <c>{root, put, get}</c> (<c>put</c>/<c>get</c> as a string or an array).</summary>
    /// <exception cref="KeyLoadException">Malformed, or a scope that allows nothing.</exception>
    public static KeyScope Parse(JsonElement element)
    {
        TokenClaims claims;
        try
        {
            claims = TokenClaims.Parse(element.GetRawText());
        }
        catch (FormatException ex)
        {
            throw new KeyLoadException($"invalid key scope: {ex.Message}", ex);
        }
        if (claims.GrantsNothing)
            throw new KeyLoadException("invalid key scope: it allows neither put nor get");
        return new KeyScope(claims.Root, claims.Put, claims.Get);
    }

    /// <summary>Writes the scope as a JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("root", Root.Value);
        writer.WriteStartArray("put");
        foreach (var p in Put)
            writer.WriteStringValue(p.Value);
        writer.WriteEndArray();
        writer.WriteStartArray("get");
        foreach (var g in Get)
            writer.WriteStringValue(g.Value);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
