using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoqCluster.Edge.Cluster;
using MoqCluster.Edge.Relay;
using MoqCluster.Edge.Telemetry;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>A <see cref="RelayHost"/> in this process, with sessions over in-memory QMux connections.</summary>
internal sealed class InProcessRelay : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<Task> _serving = [];
    private readonly List<IMoqConnection> _clients = [];

    public InProcessRelay(EdgeOptions? options = null)
    {
        _services = new ServiceCollection().AddMetrics().AddLogging().BuildServiceProvider();
        Metrics = new EdgeMetrics(_services.GetRequiredService<IMeterFactory>());
        var configuration = new ConfigurationBuilder().Build();
        var loggers = _services.GetRequiredService<ILoggerFactory>();
        Relay = new RelayHost(Options.Create(options ?? new EdgeOptions()), configuration, loggers, Metrics);
        // Single node: the grains route local publishers into the serving origin, as in the edge process.
        Cluster = new EdgeCluster(Relay, configuration, loggers);
        Cluster.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public EdgeCluster Cluster { get; }

    public RelayHost Relay { get; }

    public EdgeMetrics Metrics { get; }

    /// <summary>Opens a client session at <c>/anon</c> (public access) that serves <paramref name="publish"/>.</summary>
    public async Task<(MoqSession Session, IMoqConnection Connection)> ConnectAsync(MoqVersion version, OriginConsumer? publish = null)
    {
        var (client, server) = InMemoryConnection.CreatePair(version.Alpn());
        var grant = (await Relay.AuthorizeAsync(MoqPath.Parse("anon"), null)).Grant ?? throw new InvalidOperationException("anon is not public");
        lock (_serving)
        {
            _serving.Add(Relay.ServeAsync(server, grant, "memory"));
            _clients.Add(client);
        }
        var session = await MoqSession.ConnectAsync(client, new SessionOptions { Publish = publish, Versions = [version] });
        return (session, client);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAsync(CancellationToken.None);
        foreach (var c in _clients)
            await c.DisposeAsync();
        await Task.WhenAll(_serving).WaitAsync(TimeSpan.FromSeconds(10));
        await _services.DisposeAsync();
    }
}
