using MoqCluster.Edge.Relay;
using MoqCluster.Edge.Telemetry;
using MoqCluster.Grains;
using MoqCluster.Silo;

namespace MoqCluster.Edge.Cluster;

/// <summary>
/// Runs this edge's part of the cluster: the silo (membership and directory, in memory for a single node or on
/// etcd), the edge-to-edge links and the broadcast grains that route every path between local publishers,
/// other edges and local subscribers.
/// </summary>
public sealed class EdgeCluster : IHostedService, IAsyncDisposable
{
    private readonly ILogger<EdgeCluster> _logger;

    /// <summary>Builds the silo, links and catalog from configuration (<c>Cluster:*</c>); link sessions report to <paramref name="metrics"/>.</summary>
    public EdgeCluster(RelayHost relay, IConfiguration configuration, ILoggerFactory loggers, EdgeMetrics? metrics = null)
    {
        _logger = loggers.CreateLogger<EdgeCluster>();
        var section = configuration.GetSection(ClusterOptions.SectionName);
        var options = ClusterOptions.Parse(name => name switch
        {
            "OriginId" => relay.OriginId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "AdvertiseUrl" => section["AdvertiseUrl"] ?? DefaultAdvertiseUrl(configuration),
            _ => section[name],
        });
        Silo = new ClusterSilo(options, loggerFactory: loggers);
        Links = new ClusterLinks(relay.ClusterCredential?.Issue(), loggers, metrics);
        var grains = new GrainOptions();
        configuration.GetSection("Grains").Bind(grains);
        Catalog = new GrainCatalog(relay.LocalOrigin, relay.Origin, Silo, Links, grains, loggers);
        if (options.IsClustered && relay.ClusterCredential is null)
            throw new InvalidOperationException("clustered edges need --Cluster:Secret (the shared secret edges authenticate each other with)");
    }

    /// <summary>Membership and directory.</summary>
    public ClusterSilo Silo { get; }

    /// <summary>Edge-to-edge links.</summary>
    public ClusterLinks Links { get; }

    /// <summary>The broadcast grains.</summary>
    public GrainCatalog Catalog { get; }

    /// <summary>The first HTTP listener of <c>--urls</c>, with wildcard hosts replaced by loopback.</summary>
    private static string DefaultAdvertiseUrl(IConfiguration configuration)
    {
        var first = (configuration["urls"] ?? configuration["ASPNETCORE_URLS"] ?? "http://localhost:4443").Split(';')[0];
        return first.Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1").Replace("://0.0.0.0", "://127.0.0.1").Replace("://localhost", "://127.0.0.1");
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Silo.StartAsync(cancellationToken).ConfigureAwait(false);
        Catalog.Start();
        _logger.LogInformation("cluster node {Node} (origin {Origin}) advertising {Url}, {Mode}", Silo.Self.NodeId, Silo.Self.OriginId, Silo.Self.AdvertiseUrl,
            Silo.Options.IsClustered ? $"etcd {string.Join(',', Silo.Options.EtcdEndpoints)}" : "single node");
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Catalog.DisposeAsync().ConfigureAwait(false);
        await Links.DisposeAsync().ConfigureAwait(false);
        await Silo.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await Silo.DisposeAsync().ConfigureAwait(false);
}
