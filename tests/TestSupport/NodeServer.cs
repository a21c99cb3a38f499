using System.Text.Json;

namespace MoqCluster.TestSupport;

/// <summary>
/// The reference moq-lite server <c>server.mjs</c> (built on <c>@moq/net</c> 0.3.4's server side),
/// listening on 127.0.0.1, for testing our C# client against an implementation we did not write.
/// Dispose it to kill it.
/// </summary>
/// <example>
/// <code>
/// await using var server = await NodeServer.StartAsync("relay");
/// var url = server.UrlFor("anon");   // http://127.0.0.1:PORT/anon
/// </code>
/// </example>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly NodeScript _script;

    private NodeServer(NodeScript script, int port)
    {
        _script = script;
        Port = port;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Base URL, <c>http://127.0.0.1:PORT</c> (clients upgrade to WebSocket on any path).</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>The underlying process (live output, PID).</summary>
    public ChildProcess Process => _script.Process;

    /// <summary>Every JSON event the server printed so far (<c>upgrade</c>, <c>session</c>, <c>announce</c>, <c>forward</c>, …).</summary>
    public IReadOnlyList<JsonElement> Events => JsonLines.Parse(_script.Process.StdoutLines);

    /// <summary>
    /// Start <c>server.mjs</c> on a port it picks itself and wait for its <c>listening</c> line.
    /// </summary>
    /// <param name="mode"><c>relay</c>, <c>echo</c> (sessions also see their own broadcasts) or <c>source</c> (server publishes <c>--broadcast</c>/<c>--track</c>).</param>
    /// <param name="extraArguments">More server options, e.g. <c>["--select", "qmux-00.moq-lite-04"]</c> or <c>["--negotiate", "moq-lite-01"]</c>.</param>
    /// <param name="log">Receives every output line.</param>
    /// <param name="startTimeout">How long to wait for the listening line (default 30 s).</param>
    public static async Task<NodeServer> StartAsync(
        string mode = "relay",
        IEnumerable<string>? extraArguments = null,
        Action<string>? log = null,
        TimeSpan? startTimeout = null)
    {
        var script = await NodeInterop.StartAsync("server.mjs", ["--port", "0", "--parent-watch", "--mode", mode, .. extraArguments ?? []], log).ConfigureAwait(false);
        try
        {
            var listening = await script.WaitForEventAsync("listening", startTimeout ?? TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            return new NodeServer(script, listening.GetProperty("port").GetInt32());
        }
        catch
        {
            await script.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The URL of a session rooted at <paramref name="root"/>, e.g. <c>http://127.0.0.1:PORT/anon</c>.</summary>
    /// <param name="root">Session root path (no leading slash needed).</param>
    public string UrlFor(string root) => $"{Url}/{root.TrimStart('/')}";

    /// <summary>Wait for a server event with this name that satisfies <paramref name="match"/> (earlier events count).</summary>
    /// <param name="eventName">E.g. <c>session</c> (has <c>version</c>, <c>subprotocol</c>) or <c>announce</c> (has <c>path</c>, <c>active</c>).</param>
    /// <param name="match">Extra condition on the event; any event of that name when null.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<JsonElement> WaitForEventAsync(string eventName, Func<JsonElement, bool>? match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var line = await _script.Process.WaitForLineAsync(
            l => JsonLines.TryParse(l, out var e) && JsonLines.EventName(e) == eventName && (match is null || match(e)),
            timeout,
            cancellationToken).ConfigureAwait(false);
        JsonLines.TryParse(line, out var element);
        return element;
    }

    /// <summary>Kill the server's process tree.</summary>
    public ValueTask DisposeAsync() => _script.DisposeAsync();
}
