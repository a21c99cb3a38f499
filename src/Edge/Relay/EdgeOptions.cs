namespace MoqCluster.Edge.Relay;

/// <summary>Relay settings bound from configuration (appsettings.json, environment, command line).</summary>
public sealed class EdgeOptions
{
    /// <summary>How long a broadcast stays announced after its publisher's session died abruptly.</summary>
    public TimeSpan PublisherLinger { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Our origin (hop) id; 0 = random in [1, 2^53).</summary>
    public ulong OriginId { get; set; }
}
