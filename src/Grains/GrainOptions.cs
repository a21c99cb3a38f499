namespace MoqCluster.Grains;

/// <summary>Timing of broadcast grains.</summary>
public sealed class GrainOptions
{
    /// <summary>
    /// How long a grain that lost every route keeps its tracks (and their subscribers) waiting for a new
    /// route, e.g. a publisher reconnecting to another edge, before ending them.
    /// </summary>
    public TimeSpan OrphanGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an upstream track outlives its last local subscriber.</summary>
    public TimeSpan UpstreamLinger { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a source's track properties before giving up on that source.</summary>
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
