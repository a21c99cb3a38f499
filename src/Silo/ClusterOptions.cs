using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace MoqCluster.Silo;

/// <summary>
/// How this node joins the cluster: the <c>Cluster</c> configuration section
/// (<c>--Cluster:Etcd=http://127.0.0.1:32379,…</c>, <c>--Cluster:NodeId</c>, <c>--Cluster:AdvertiseUrl</c>,
/// <c>--Cluster:Region</c>, <c>--Cluster:LeaseTtl</c>). Without <c>Etcd</c> the node runs alone on the
/// embedded in-memory store.
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>The configuration section these options live in.</summary>
    public const string SectionName = "Cluster";

    /// <summary>The default lease TTL: a dead node's entries vanish within about this long.</summary>
    public static readonly TimeSpan DefaultLeaseTtl = TimeSpan.FromSeconds(3);

    /// <summary>etcd client URLs, in preference order; empty = single node on the in-memory store.</summary>
    public IReadOnlyList<Uri> EtcdEndpoints { get; init; } = [];

    /// <summary>This node's id, unique in the cluster (default: machine name plus a random suffix).</summary>
    public string NodeId { get; init; } = DefaultNodeId();

    /// <summary>The moq-lite origin id this node puts in hop chains; below 2^53 so JavaScript peers read it exactly (default: random).</summary>
    public ulong OriginId { get; init; } = (ulong)Random.Shared.NextInt64(1, 1L << 53);

    /// <summary>How other edges reach this one (e.g. <c>tcp://10.0.0.5:4444</c>); opaque to the silo.</summary>
    public string AdvertiseUrl { get; init; } = "";

    /// <summary>The region this node runs in (free text, used for routing preferences).</summary>
    public string Region { get; init; } = "";

    /// <summary>Lease TTL: how long a node that stopped renewing (crashed, partitioned) stays listed.</summary>
    public TimeSpan LeaseTtl { get; init; } = DefaultLeaseTtl;

    /// <summary>Prefix of every key the cluster writes (lets several clusters share one etcd).</summary>
    public string KeyPrefix { get; init; } = "/moqcluster/";

    /// <summary>
    /// Deadline of one etcd call on one endpoint before the next endpoint is tried; default
    /// LeaseTtl / 3 within [0.5 s, 2 s], so a hung member cannot make the lease lapse.
    /// </summary>
    public TimeSpan? EtcdRequestTimeout { get; init; }

    /// <summary>How long <see cref="ClusterSilo.StartAsync"/> waits for the store before carrying on locally.</summary>
    public TimeSpan StartupWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>True when etcd endpoints are configured.</summary>
    public bool IsClustered => EtcdEndpoints.Count > 0;

    /// <summary>The effective per-attempt etcd timeout.</summary>
    public TimeSpan EffectiveEtcdRequestTimeout =>
        EtcdRequestTimeout ?? TimeSpan.FromTicks(Math.Clamp(LeaseTtl.Ticks / 3, TimeSpan.FromMilliseconds(500).Ticks, TimeSpan.FromSeconds(2).Ticks));

    /// <summary>Read the options from the <c>Cluster</c> section of a configuration.</summary>
    /// <param name="configuration">The application configuration (command line, environment, files).</param>
    /// <returns>The options, validated.</returns>
    /// <exception cref="FormatException">A value cannot be parsed.</exception>
    public static ClusterOptions FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        return Parse(name => section[name]);
    }

    /// <summary>Build the options from named settings (<c>Etcd</c>, <c>NodeId</c>, <c>OriginId</c>, <c>AdvertiseUrl</c>, <c>Region</c>, <c>LeaseTtl</c>, <c>KeyPrefix</c>).</summary>
    /// <param name="setting">Returns a setting's value, or null when absent.</param>
    /// <returns>The options, validated.</returns>
    /// <exception cref="FormatException">A value cannot be parsed.</exception>
    public static ClusterOptions Parse(Func<string, string?> setting)
    {
        var defaults = new ClusterOptions();
        var options = new ClusterOptions
        {
            EtcdEndpoints = ParseEndpoints(setting("Etcd")),
            NodeId = NonEmpty(setting("NodeId")) ?? defaults.NodeId,
            OriginId = NonEmpty(setting("OriginId")) is { } origin
                ? ulong.Parse(origin, NumberStyles.None, CultureInfo.InvariantCulture)
                : defaults.OriginId,
            AdvertiseUrl = setting("AdvertiseUrl") ?? "",
            Region = setting("Region") ?? "",
            LeaseTtl = NonEmpty(setting("LeaseTtl")) is { } ttl ? ParseDuration(ttl) : DefaultLeaseTtl,
            KeyPrefix = NonEmpty(setting("KeyPrefix")) ?? defaults.KeyPrefix,
        };
        options.Validate();
        return options;
    }

    /// <summary>Parse a comma-separated list of etcd client URLs (blank = none).</summary>
    /// <param name="value">E.g. <c>http://127.0.0.1:32379,http://127.0.0.1:32479</c>.</param>
    /// <returns>The URLs in order.</returns>
    /// <exception cref="FormatException">An entry is not an absolute http(s) URL.</exception>
    public static IReadOnlyList<Uri> ParseEndpoints(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var endpoints = new List<Uri>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new FormatException($"Cluster:Etcd entry '{part}' is not an http(s) URL");
            }

            endpoints.Add(uri);
        }

        return endpoints;
    }

    /// <summary>Parse a duration: whole or fractional seconds (<c>3</c>, <c>2.5</c>, <c>3s</c>), milliseconds (<c>1500ms</c>) or a TimeSpan (<c>00:00:03</c>).</summary>
    /// <param name="value">The text.</param>
    /// <returns>The duration.</returns>
    /// <exception cref="FormatException">Not one of the accepted forms.</exception>
    public static TimeSpan ParseDuration(string value)
    {
        var text = value.Trim();
        // A bare number means seconds: TimeSpan.Parse("3") would be three days.
        if (text.EndsWith("ms", StringComparison.OrdinalIgnoreCase)
            && double.TryParse(text[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        var seconds = text.EndsWith('s') ? text[..^1] : text;
        if (double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
        {
            return TimeSpan.FromSeconds(s);
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        throw new FormatException($"'{value}' is not a duration (e.g. 3, 3s, 1500ms, 00:00:03)");
    }

    /// <summary>Check the options for values the cluster cannot work with.</summary>
    /// <exception cref="FormatException">A value is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(NodeId) || NodeId.Length > 128 || NodeId.Any(char.IsControl))
        {
            throw new FormatException($"Cluster:NodeId '{NodeId}' must be 1-128 printable characters");
        }

        if (OriginId == 0 || OriginId >= 1UL << 53)
        {
            throw new FormatException($"Cluster:OriginId {OriginId} must be in [1, 2^53)");
        }

        if (LeaseTtl < TimeSpan.FromSeconds(1) || LeaseTtl > TimeSpan.FromHours(1))
        {
            throw new FormatException($"Cluster:LeaseTtl {LeaseTtl} must be between 1 s and 1 h");
        }

        if (!KeyPrefix.StartsWith('/') || !KeyPrefix.EndsWith('/'))
        {
            throw new FormatException($"Cluster:KeyPrefix '{KeyPrefix}' must start and end with '/'");
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string DefaultNodeId() =>
        $"{Environment.MachineName.ToLowerInvariant()}-{Random.Shared.Next():x8}";
}
