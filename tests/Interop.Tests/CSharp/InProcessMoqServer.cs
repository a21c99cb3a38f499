using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;
using SessionOptions = MoqCluster.Protocol.Session.SessionOptions;

namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>
/// A Kestrel app on 127.0.0.1 (ephemeral port) that accepts every WebSocket upgrade with
/// <see cref="MoqWebSocketAcceptor"/> and runs <see cref="MoqSession.AcceptAsync"/> on it, publishing what the
/// peer announces into <see cref="Origin"/> and serving the origin's broadcasts to the peer. No edge code involved:
/// this is the Protocol library's server side on its own.
/// </summary>
internal sealed class InProcessMoqServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<AcceptedSession> _sessions = new();
    private readonly ConcurrentQueue<string> _failures = new();

    private InProcessMoqServer(WebApplication app) => _app = app;

    /// <summary>The table both directions go through.</summary>
    public Origin Origin { get; } = new();

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>Sessions accepted so far: the selected subprotocol and the negotiated version.</summary>
    public IReadOnlyList<AcceptedSession> Sessions => [.. _sessions];

    /// <summary>Handshakes that failed, with their reason.</summary>
    public IReadOnlyList<string> Failures => [.. _failures];

    /// <summary>Starts the app.</summary>
    public static async Task<InProcessMoqServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new InProcessMoqServer(app);
        app.UseWebSockets();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.Url = app.Urls.First();
        return server;
    }

    /// <summary>A description of the sessions and failures, for assertion messages.</summary>
    public string Describe() =>
        $"--- in-process server sessions ---\n{string.Join('\n', Sessions)}\n--- failures ---\n{string.Join('\n', Failures)}";

    /// <summary>Stops the app (open sessions are torn down).</summary>
    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var accepted = await MoqWebSocketAcceptor.AcceptAsync(context, cancellationToken: context.RequestAborted);
        if (accepted is null)
        {
            _failures.Enqueue($"upgrade refused: {string.Join(", ", context.WebSockets.WebSocketRequestedProtocols)}");
            return;
        }

        MoqSession session;
        try
        {
            session = await MoqSession.AcceptAsync(accepted.Connection, new SessionOptions
            {
                Publish = Origin.Consumer(),
                Subscribe = Origin.Producer(),
            });
        }
        catch (ProtocolException ex)
        {
            _failures.Enqueue($"{accepted.Subprotocol}: {ex.Message}");
            await accepted.Connection.DisposeAsync();
            return;
        }

        _sessions.Enqueue(new AcceptedSession(accepted.Subprotocol, session.Version));
        await using (session)
        {
            await session.Closed;
        }
    }
}
