using System.Collections.Concurrent;

namespace MoqCluster.TestSupport;

/// <summary>
/// Starts real child processes for tests. Every process started here is killed (with its whole
/// process tree, by PID) when its <see cref="ChildProcess"/> is disposed, when a run passes its
/// deadline, and as a last resort when the test host exits.
/// </summary>
public static class ProcessRunner
{
    private static readonly ConcurrentDictionary<int, ChildProcess> Live = new();

    static ProcessRunner()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    /// <summary>Start a process with redirected stdin/stdout/stderr.</summary>
    /// <param name="fileName">Executable (looked up on PATH when not a path).</param>
    /// <param name="arguments">Arguments, passed verbatim (no shell quoting involved).</param>
    /// <param name="workingDirectory">Working directory; the current one when null.</param>
    /// <param name="environment">Variables to set (a null value removes the variable).</param>
    /// <param name="log">Receives every stdout/stderr line, prefixed with the process name and PID.</param>
    /// <returns>The running process; dispose it to kill it.</returns>
    public static ChildProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        Action<string>? log = null)
    {
        var child = ChildProcess.Launch(fileName, arguments, workingDirectory, environment, log, Unregister);
        Live[child.Id] = child;
        return child;
    }

    /// <summary>Run a process to completion; past <paramref name="timeout"/> its process tree is killed.</summary>
    /// <param name="fileName">Executable (looked up on PATH when not a path).</param>
    /// <param name="arguments">Arguments, passed verbatim.</param>
    /// <param name="timeout">Hard deadline for the whole run.</param>
    /// <param name="workingDirectory">Working directory; the current one when null.</param>
    /// <param name="environment">Variables to set (a null value removes the variable).</param>
    /// <param name="log">Receives every stdout/stderr line.</param>
    /// <param name="cancellationToken">Cancels the wait; the process is killed.</param>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        await using var child = Start(fileName, arguments, workingDirectory, environment, log);
        return await child.WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Kill every process started here that is still running.</summary>
    public static void KillAll()
    {
        foreach (var child in Live.Values)
        {
            child.Kill();
        }
    }

    private static void Unregister(ChildProcess child) => Live.TryRemove(child.Id, out _);
}
