using System.Diagnostics;

namespace MoqCluster.Edge.Telemetry;

/// <summary>The edge's <see cref="ActivitySource"/> (<c>MoqCluster.Edge</c>): one activity per session.</summary>
public static class EdgeTracing
{
    /// <summary>The source name to listen to or export.</summary>
    public const string SourceName = "MoqCluster.Edge";

    /// <summary>The activity source.</summary>
    public static ActivitySource Source { get; } = new(SourceName);
}
