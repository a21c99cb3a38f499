using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MoqCluster.Protocol.Transport;
using Xunit.Abstractions;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>Loopback tests of raw QUIC; they run where libmsquic is installed and are skipped (visibly) elsewhere.</summary>
public sealed class QuicMoqConnectionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SupportIsReportedWithAReason()
    {
        if (QuicMoqListener.IsSupported)
        {
            Assert.Null(QuicMoqListener.UnsupportedReason);
            output.WriteLine("System.Net.Quic is supported here");
            return;
        }

        output.WriteLine($"QUIC tests skipped: {QuicMoqListener.UnsupportedReason}");
        Assert.Contains("QUIC disabled, use WebSocket or TCP", QuicMoqListener.UnsupportedReason);
        if (OperatingSystem.IsLinux())
        {
            Assert.Contains("libmsquic not found", QuicMoqListener.UnsupportedReason);
        }

        using var certificate = CreateCertificate();
        var error = await Assert.ThrowsAsync<PlatformNotSupportedException>(() => QuicMoqListener.ListenAsync(
            new QuicMoqListenerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Certificate = certificate }));
        Assert.Equal(QuicMoqListener.UnsupportedReason, error.Message);
        await Assert.ThrowsAsync<PlatformNotSupportedException>(() => QuicMoqClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, 1)));
    }

    [QuicFact]
    public async Task BidiEchoAndAlpn()
    {
        await using var pair = await QuicPair.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        Assert.Equal("moq-lite-05", pair.Client.ApplicationProtocol);
        Assert.Equal("moq-lite-05", pair.Server.ApplicationProtocol);
        Assert.True(pair.Client.IsUrlLess);
        Assert.Equal("quic", pair.Server.TransportName);

        var echo = Task.Run(async () =>
        {
            var stream = (await pair.Server.AcceptBidiAsync(cts.Token))!;
            var buffer = new byte[8192];
            int read;
            while ((read = await stream.Recv.ReadAsync(buffer, cts.Token)) > 0)
            {
                await stream.Send.WriteAsync(buffer.AsMemory(0, read), cancellationToken: cts.Token);
            }

            await stream.Send.WriteAsync(ReadOnlyMemory<byte>.Empty, fin: true, cts.Token);
        });

        var client = await pair.Client.OpenBidiAsync(cts.Token);
        var payload = RandomNumberGenerator.GetBytes(1 << 20);
        var reading = ReadToEndAsync(client.Recv, cts.Token);
        await client.Send.WriteAsync(payload, fin: true, cts.Token);
        Assert.Equal(payload, await reading);
        await echo;
    }

    [QuicFact]
    public async Task UniStreamsBothWays()
    {
        await using var pair = await QuicPair.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);

        var up = await pair.Client.OpenUniAsync(cts.Token);
        await up.WriteAsync("from client"u8.ToArray(), fin: true, cts.Token);
        var serverSide = (await pair.Server.AcceptUniAsync(cts.Token))!;
        Assert.Equal("from client"u8.ToArray(), await ReadToEndAsync(serverSide, cts.Token));

        var down = await pair.Server.OpenUniAsync(cts.Token);
        await down.WriteAsync("from server"u8.ToArray(), fin: true, cts.Token);
        var clientSide = (await pair.Client.AcceptUniAsync(cts.Token))!;
        Assert.Equal("from server"u8.ToArray(), await ReadToEndAsync(clientSide, cts.Token));

        // Stream ids follow QUIC numbering: client uni = 2 mod 4, server uni = 3 mod 4.
        Assert.Equal(2, up.Id & 3);
        Assert.Equal(3, down.Id & 3);
    }

    [QuicFact]
    public async Task StopSendingAndResetCarryCodes()
    {
        await using var pair = await QuicPair.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);

        var stopped = await pair.Client.OpenBidiAsync(cts.Token);
        await stopped.Send.WriteAsync(new byte[] { 1 }, cancellationToken: cts.Token);
        var accepted = (await pair.Server.AcceptBidiAsync(cts.Token))!;
        accepted.Recv.StopSending(7);
        Assert.Equal(7ul, await stopped.Send.Stopped.WaitAsync(cts.Token));

        var reset = await pair.Client.OpenBidiAsync(cts.Token);
        await reset.Send.WriteAsync(new byte[] { 2 }, cancellationToken: cts.Token);
        var accepted2 = (await pair.Server.AcceptBidiAsync(cts.Token))!;
        reset.Send.Reset(9);
        var error = await Assert.ThrowsAsync<StreamAbortedException>(() => ReadToEndAsync(accepted2.Recv, cts.Token));
        Assert.Equal(9ul, error.Code);
    }

    [QuicFact]
    public async Task LegacyAlpnIsNegotiated()
    {
        await using var pair = await QuicPair.StartAsync(new QuicMoqClientOptions { VerifyCertificate = false, ApplicationProtocols = ["moql"] });
        Assert.Equal("moql", pair.Client.ApplicationProtocol);
        Assert.Equal("moql", pair.Server.ApplicationProtocol);
    }

    [QuicFact]
    public async Task CloseReachesThePeer()
    {
        await using var pair = await QuicPair.StartAsync();
        using var cts = new CancellationTokenSource(Timeout);
        pair.Client.Close(6, "unauthorized");
        var info = await pair.Server.Closed.WaitAsync(cts.Token);
        Assert.Equal(6ul, info.Code);
        Assert.True(info.ByPeer);
        Assert.Null(await pair.Server.AcceptBidiAsync(cts.Token));
        var local = await pair.Client.Closed.WaitAsync(cts.Token);
        Assert.False(local.ByPeer);
    }

    internal static async Task<byte[]> ReadToEndAsync(IRecvStream stream, CancellationToken cancellationToken)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[16384];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            memory.Write(buffer, 0, read);
        }

        return memory.ToArray();
    }

    /// <summary>A self-signed ECDSA P-256 certificate for 127.0.0.1 / localhost.</summary>
    internal static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A listener plus one connected client/server pair on loopback.</summary>
    private sealed class QuicPair : IAsyncDisposable
    {
        private readonly X509Certificate2 _certificate;
        private readonly QuicMoqListener _listener;

        private QuicPair(X509Certificate2 certificate, QuicMoqListener listener, QuicMoqConnection server, QuicMoqConnection client)
        {
            _certificate = certificate;
            _listener = listener;
            Server = server;
            Client = client;
        }

        public QuicMoqConnection Server { get; }

        public QuicMoqConnection Client { get; }

        public static async Task<QuicPair> StartAsync(QuicMoqClientOptions? clientOptions = null)
        {
            var certificate = CreateCertificate();
            var listener = await QuicMoqListener.ListenAsync(new QuicMoqListenerOptions
            {
                EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                Certificate = certificate,
            });
            var accepting = listener.AcceptAsync();
            var client = await QuicMoqClient.ConnectAsync(listener.LocalEndPoint, clientOptions ?? new QuicMoqClientOptions { VerifyCertificate = false });
            var server = await accepting.WaitAsync(Timeout);
            return new QuicPair(certificate, listener, server, client);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            await _listener.DisposeAsync();
            _certificate.Dispose();
        }
    }
}
