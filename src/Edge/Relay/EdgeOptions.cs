namespace MoqCluster.Edge.Relay;

/// <summary>Relay settings bound from configuration section <c>Relay</c> (appsettings.json, environment, command line).</summary>
public sealed class EdgeOptions
{
    /// <summary>How long a broadcast stays announced after its publisher's session died abruptly.</summary>
    public TimeSpan PublisherLinger { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Our origin (hop) id; 0 = random in [1, 2^53).</summary>
    public ulong OriginId { get; set; }

    /// <summary>On shutdown, how long sessions get after GOAWAY before they are closed.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The URI sent in GOAWAY on shutdown (empty = just leave).</summary>
    public string GoAwayUri { get; set; } = "";

    /// <summary>Most subscriptions one session may hold open.</summary>
    public int MaxSubscriptionsPerSession { get; set; } = 1_000;

    /// <summary>Most Announce requests one session may hold open.</summary>
    public int MaxAnnounceRequestsPerSession { get; set; } = 64;

    /// <summary>How long <c>/fetch</c> waits for a group that is not cached yet.</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
