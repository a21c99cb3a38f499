using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>wss:// on loopback with a self-signed certificate: the client's certificate options.</summary>
public sealed class WebSocketTlsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static Task<LoopbackWebSocketServer> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        LoopbackWebSocketServer.StartAsync(async context =>
        {
            var accepted = await MoqWebSocketAcceptor.AcceptAsync(context);
            if (accepted is not null)
            {
                await using var connection = accepted.Connection;
                await connection.Closed;
            }
        }, certificate);

    [Fact]
    public async Task HttpsUrlConnectsOverWssWithoutVerification()
    {
        using var certificate = QuicMoqConnectionTests.CreateCertificate();
        await using var server = await StartAsync(certificate);
        Assert.Equal("https", server.BaseUri.Scheme);
        using var cts = new CancellationTokenSource(Timeout);
        await using var client = await MoqWebSocketClient.ConnectAsync(
            server.Url("/tls"), new MoqWebSocketClientOptions { VerifyCertificate = false }, cts.Token);
        Assert.Equal("moq-lite-05", client.ApplicationProtocol);
    }

    [Fact]
    public async Task UntrustedCertificateIsRefusedByDefault()
    {
        using var certificate = QuicMoqConnectionTests.CreateCertificate();
        await using var server = await StartAsync(certificate);
        using var cts = new CancellationTokenSource(Timeout);
        await Assert.ThrowsAsync<WebSocketConnectException>(() => MoqWebSocketClient.ConnectAsync(server.Url("/tls"), cancellationToken: cts.Token));
    }

    [Fact]
    public async Task PinnedCertificateIsAccepted()
    {
        using var certificate = QuicMoqConnectionTests.CreateCertificate();
        await using var server = await StartAsync(certificate);
        using var cts = new CancellationTokenSource(Timeout);
        var pinned = certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var options = new MoqWebSocketClientOptions
        {
            CertificateValidation = (_, presented, _, _) =>
                presented is not null && presented.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256) == pinned,
        };
        await using var client = await MoqWebSocketClient.ConnectAsync(server.Url("/tls"), options, cts.Token);
        Assert.Equal("websocket/qmux-00", client.TransportName);
    }
}
