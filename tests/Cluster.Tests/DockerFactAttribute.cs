namespace MoqCluster.Cluster.Tests;

/// <summary>
/// A fact that needs a docker engine and docker-compose. At discovery it runs <c>deploy/docker-engine.sh start</c>
/// once (install the packages if missing, start <c>dockerd</c> if no engine answers); when that is impossible here
/// (no root, no packages, the engine does not start) the test is reported as skipped with the reason — visibly, never
/// as a silent pass.
/// </summary>
public sealed class DockerFactAttribute : FactAttribute
{
    private static readonly Lazy<(string? SkipReason, bool StartedByUs)> Probe = new(Run);

    public DockerFactAttribute()
    {
        if (Probe.Value.SkipReason is { } reason)
            Skip = reason;
    }

    /// <summary>True when the probe started a dockerd that the test should stop when done.</summary>
    public static bool EngineStartedByTests => Probe.Value.StartedByUs;

    private static (string?, bool) Run()
    {
        var script = Path.Combine(RepoPaths.Root, "deploy", "docker-engine.sh");
        try
        {
            var result = ProcessRunner.RunAsync("bash", [script, "start"], TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
            if (result.ExitCode != 0)
                return ($"DOCKER UNAVAILABLE, compose smoke test not run: deploy/docker-engine.sh start failed (exit {result.ExitCode}): {result.Stderr.Trim()}", false);
            return (null, result.StdoutLines.Any(l => l.StartsWith("started", StringComparison.Ordinal)));
        }
        catch (Exception ex)
        {
            return ($"DOCKER UNAVAILABLE, compose smoke test not run: {ex.GetType().Name}: {ex.Message}", false);
        }
    }
}
