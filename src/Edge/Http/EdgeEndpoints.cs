namespace MoqCluster.Edge.Http;

/// <summary>The edge's HTTP API next to the WebSocket sessions: <c>/announced</c>, <c>/fetch</c>, <c>/certificate.sha256</c>, <c>/cluster</c>.</summary>
public static class EdgeEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapEdgeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/certificate.sha256", CertificateEndpoint.Handle);
        endpoints.MapGet("/announced/{**prefix}", AnnouncedEndpoint.Handle);
        endpoints.MapGet("/fetch/{**path}", FetchEndpoint.Handle);
        endpoints.MapGet("/cluster", ClusterEndpoint.Handle);
        return endpoints;
    }

    /// <summary>These are public, read-only GETs that browser apps on other origins call (as the reference relay allows).</summary>
    internal static void AllowAnyOrigin(HttpContext context) => context.Response.Headers.AccessControlAllowOrigin = "*";
}
