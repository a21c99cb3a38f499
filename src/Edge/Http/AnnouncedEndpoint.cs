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
    public static IResult Handle(string? prefix, HttpContext context, RelayHost relay)
    {
        EdgeEndpoints.AllowAnyOrigin(context);
        var path = MoqPath.Parse(prefix);
        var grant = relay.Authorize(path, context.Request.Query[MoqWebSocketAcceptor.JwtQueryParameter]);
        if (grant is null)
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        using var feed = relay.Origin.Consumer(grant.Root, grant.Subscribe).Announced();
        var paths = feed.Initial.Select(a => grant.Root.Join(a.Path).Value).ToList();
        return Results.Json(paths);
    }
}
