using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>A Kestrel app on 127.0.0.1 with an ephemeral port, routing every request to one handler.</summary>
internal sealed class LoopbackWebSocketServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackWebSocketServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    /// <summary><c>http://127.0.0.1:port</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>Starts the app; with a <paramref name="certificate"/> it serves HTTPS (wss://) instead of HTTP.</summary>
    public static async Task<LoopbackWebSocketServer> StartAsync(RequestDelegate handler, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (certificate is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel =>
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        }

        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(handler);
        await app.StartAsync();
        return new LoopbackWebSocketServer(app, new Uri(app.Urls.First()));
    }

    public Uri Url(string pathAndQuery) => new(BaseUri, pathAndQuery);

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}
