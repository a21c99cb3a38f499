using MoqCluster.Edge.Tls;

namespace MoqCluster.Edge.Http;

/// <summary>
/// <c>GET /certificate.sha256</c>: the SHA-256 of the served certificate, lowercase hex, exactly 64 characters,
/// no separators and no trailing newline (the JavaScript clients do not trim), as <c>text/plain</c>.
/// </summary>
internal static class CertificateEndpoint
{
    public static IResult Handle(HttpContext context, ServerCertificate certificate)
    {
        EdgeEndpoints.AllowAnyOrigin(context);
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Text(certificate.Sha256Hex, "text/plain");
    }
}
