using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MoqCluster.Edge.Tls;
using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>An edge started with operator configuration: PEM certificate, OTLP export, QUIC listener.</summary>
public sealed class ConfiguredEdgeTests
{
    [Fact]
    public async Task Serves_the_configured_pem_certificate_and_reports_telemetry_and_quic_state()
    {
        await using var edge = new EdgeProcess(https: true, tcp: true);
        using var certificate = SelfSignedCertificate.Create(["edge.test", "127.0.0.1"]);
        using var key = certificate.GetECDsaPrivateKey()!;
        var certPath = Path.Combine(edge.TempDirectory, "cert.pem");
        var keyPath = Path.Combine(edge.TempDirectory, "key.pem");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());

        await edge.StartAsync(
            $"--Tls:Cert={certPath}", $"--Tls:Key={keyPath}",
            $"--Telemetry:OtlpEndpoint=http://127.0.0.1:{FreePort.Get()}",
            $"--Quic:Listen=127.0.0.1:{FreePort.Get()}");

        using var http = new HttpClient();
        var served = await http.GetStringAsync(new Uri(edge.Http, "/certificate.sha256"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)), served);

        await edge.Process.WaitForLineAsync(l => l.Contains("telemetry: exporting metrics and traces over OTLP", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        // Either QUIC works here, or the edge says clearly why not and keeps serving.
        var quic = await edge.Process.WaitForLineAsync(l => l.Contains("QUIC disabled: ", StringComparison.Ordinal) || l.Contains("QUIC listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.False(edge.Process.HasExited, quic);
    }
}
