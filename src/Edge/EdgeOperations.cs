using MoqCluster.Edge.Listeners;
using MoqCluster.Edge.Relay;
using MoqCluster.Edge.Telemetry;
using MoqCluster.Edge.Tls;

namespace MoqCluster.Edge;

/// <summary>
/// Registers the edge's operational surface on a host: metrics and OTLP export, the TLS certificate (Kestrel
/// HTTPS defaults, QUIC), the URL-less listeners and the graceful drain on shutdown.
/// </summary>
public static class EdgeOperations
{
    /// <summary>Adds telemetry, TLS, listeners and draining; call after the relay is registered.</summary>
    public static WebApplicationBuilder AddEdgeOperations(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<EdgeMetrics>();
        builder.Services.AddHostedService<TelemetryExport>();

        var certificate = ServerCertificate.Load(builder.Configuration);
        builder.Services.AddSingleton(certificate);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate.Certificate));

        builder.Services.AddHostedService<UrlLessListeners>();
        builder.Services.AddHostedService<RelayDrain>();
        return builder;
    }
}
