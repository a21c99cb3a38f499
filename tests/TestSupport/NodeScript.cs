namespace MoqCluster.TestSupport;

/// <summary>An interop script started with <see cref="NodeInterop.StartAsync"/>; dispose it to kill it.</summary>
public sealed class NodeScript : IAsyncDisposable
{
    internal NodeScript(string script, ChildProcess process)
    {
        Script = script;
        Process = process;
    }

    /// <summary>The script name, e.g. <c>sub.mjs</c>.</summary>
    public string Script { get; }

    /// <summary>The underlying process (live output, PID, kill).</summary>
    public ChildProcess Process { get; }

    /// <summary>Wait until the script prints a JSON event with this <c>event</c> name.</summary>
    /// <param name="eventName">E.g. <c>connected</c> or <c>published</c>.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The event line's JSON object.</returns>
    public async Task<System.Text.Json.JsonElement> WaitForEventAsync(string eventName, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var line = await Process.WaitForLineAsync(
            l => JsonLines.TryParse(l, out var e) && JsonLines.EventName(e) == eventName,
            timeout,
            cancellationToken).ConfigureAwait(false);
        JsonLines.TryParse(line, out var element);
        return element;
    }

    /// <summary>Wait for the script to finish; past <paramref name="timeout"/> its process tree is killed.</summary>
    /// <param name="timeout">Hard deadline.</param>
    /// <param name="cancellationToken">Cancels the wait; the process tree is killed.</param>
    public async Task<NodeRunResult> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new(Script, await Process.WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false));

    /// <summary>Kill the script's process tree.</summary>
    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
