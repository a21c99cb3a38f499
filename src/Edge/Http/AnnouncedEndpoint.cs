using MoqCluster.Edge.Auth;
using MoqCluster.Edge.Relay;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Edge.Http;

/// <summary>
/// <c>GET /announced/{prefix}</c>: the active broadcast paths under a prefix as a JSON array of strings
/// (absolute paths, sorted). Scoped like a session at that prefix: <c>?jwt=</c> applies the token's subscribe
/// grants, anonymous callers see only public prefixes; a refused token is 401.
/// </summary>
internal static class AnnouncedEndpoint
{
    public static async Task<IResult> Handle(string? prefix, HttpContext context, RelayHost relay)
    {
        EdgeEndpoints.AllowAnyOrigin(context);
        var path = MoqPath.Parse(prefix);
        var decision = await relay.AuthorizeAsync(path, context.Request.Query[MoqWebSocketAcceptor.JwtQueryParameter]);
        if (decision.Failure?.Kind == AuthFailureKind.NothingGranted)
            return Results.Json(Array.Empty<string>()); // valid (or no) credentials that see nothing here
        if (decision.Grant is not { } grant)
            return Results.StatusCode(decision.StatusCode);
        using var feed = relay.Origin.Consumer(grant.Root, grant.Subscribe).Announced();
        var paths = feed.Initial.Select(a => grant.Root.Join(a.Path).Value).ToList();
        return Results.Json(paths);
    }
}
