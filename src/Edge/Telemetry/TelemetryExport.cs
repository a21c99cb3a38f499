using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace MoqCluster.Edge.Telemetry;

/// <summary>
/// Exports the edge's metrics and session activities over OTLP when an endpoint is configured
/// (<c>--Telemetry:OtlpEndpoint</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>); does nothing otherwise.
/// The providers live from host start to host stop.
/// </summary>
internal sealed class TelemetryExport(IConfiguration configuration, ILogger<TelemetryExport> logger) : IHostedService, IDisposable
{
    private MeterProvider? _meters;
    private TracerProvider? _tracer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"] ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpoint))
            return Task.CompletedTask;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            logger.LogWarning("telemetry export disabled: OTLP endpoint '{Endpoint}' is not an absolute URI", endpoint);
            return Task.CompletedTask;
        }
        var http = string.Equals(configuration["Telemetry:OtlpProtocol"], "http/protobuf", StringComparison.OrdinalIgnoreCase);
        var service = configuration["Telemetry:ServiceName"] ?? "moqcluster-edge";
        var resource = ResourceBuilder.CreateDefault().AddService(service);
        _meters = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(EdgeMetrics.MeterName)
            .AddOtlpExporter(o => Configure(o, uri, http, "v1/metrics"))
            .Build();
        _tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(EdgeTracing.SourceName)
            .AddOtlpExporter(o => Configure(o, uri, http, "v1/traces"))
            .Build();
        logger.LogInformation("telemetry: exporting metrics and traces over OTLP ({Protocol}) to {Endpoint} as {Service}", http ? "http/protobuf" : "grpc", uri, service);
        return Task.CompletedTask;
    }

    private static void Configure(OtlpExporterOptions options, Uri endpoint, bool http, string signalPath)
    {
        options.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        // A programmatic HTTP endpoint is used as is, so the per-signal path has to be added here.
        options.Endpoint = http && !endpoint.AbsolutePath.EndsWith(signalPath, StringComparison.Ordinal)
            ? new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/" + signalPath)
            : endpoint;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // Disposing flushes what is pending.
        _meters?.Dispose();
        _meters = null;
        _tracer?.Dispose();
        _tracer = null;
    }
}
