using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary><c>/certificate.sha256</c> on a real edge: the exact format browsers need, and the hash of the served certificate.</summary>
public sealed partial class CertificateEndpointTests(EdgeProcessFixture fixture) : IClassFixture<EdgeProcessFixture>
{
    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex LowerHex64();

    [Fact]
    public async Task Serves_lowercase_hex_sha256_of_the_https_certificate_without_newline()
    {
        X509Certificate2? served = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                served ??= certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.RawData);
                return true;
            },
        };
        using var client = new HttpClient(handler);
        using var response = await client.GetAsync(new Uri($"https://127.0.0.1:{fixture.Edge.HttpsPort}/certificate.sha256"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Matches(LowerHex64(), body);
        Assert.Equal(64, body.Length);
        Assert.NotNull(served);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(served.RawData)), body);

        // The generated certificate is the kind browsers pin by hash: ECDSA P-256, at most 14 days.
        using var key = served.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.True(served.NotAfter - served.NotBefore <= TimeSpan.FromDays(14));
    }

    [Fact]
    public async Task Plain_http_serves_the_same_hash()
    {
        using var client = new HttpClient();
        var body = await client.GetStringAsync(new Uri(fixture.Edge.Http, "/certificate.sha256"));
        Assert.Matches(LowerHex64(), body);
    }
}
