using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>
/// One publisher → subscriber flow of npm clients: <c>sub.mjs</c> is started first (it waits for the
/// announcement), then <c>pub.mjs</c> (it waits for the subscription, writes, lingers until the subscriber leaves).
/// </summary>
/// <param name="PubLib">Publisher library: <c>net</c>, <c>lite</c> or <c>kixelated</c>.</param>
/// <param name="SubLib">Subscriber library.</param>
/// <param name="Broadcast">Broadcast path, distinct per concurrent flow.</param>
internal sealed record NpmFlow(string PubLib, string SubLib, string Broadcast)
{
    /// <summary>Hang guard for each script.</summary>
    public static readonly TimeSpan HardTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Track name.</summary>
    public string Track { get; init; } = "video";

    /// <summary>Groups written.</summary>
    public int Groups { get; init; } = 4;

    /// <summary>Frames per group.</summary>
    public int Frames { get; init; } = 2;

    /// <summary>Frame size in bytes.</summary>
    public int Size { get; init; } = 1000;

    /// <summary>Milliseconds between groups.</summary>
    public int GroupInterval { get; init; } = 50;

    /// <summary>Subprotocols the publisher offers (null = the library's own list).</summary>
    public string? PubSubprotocols { get; init; }

    /// <summary>Subprotocols the subscriber offers (null = the library's own list).</summary>
    public string? SubSubprotocols { get; init; }

    /// <summary>The scripts' own timeout in seconds (below <see cref="HardTimeout"/>).</summary>
    public int ScriptTimeout { get; init; } = 60;

    /// <summary>Arguments of <c>pub.mjs</c>.</summary>
    public IReadOnlyList<string> PubArguments(string url) =>
    [
        url, Broadcast, Track, "--lib", PubLib,
        "--groups", $"{Groups}", "--frames", $"{Frames}", "--size", $"{Size}", "--group-interval", $"{GroupInterval}",
        "--timeout", $"{ScriptTimeout}",
        .. PubSubprotocols is null ? Array.Empty<string>() : ["--subprotocols", PubSubprotocols],
    ];

    /// <summary>Arguments of <c>sub.mjs</c> (expects every group).</summary>
    public IReadOnlyList<string> SubArguments(string url) =>
    [
        url, Broadcast, Track, "--lib", SubLib, "--expect-groups", $"{Groups}", "--timeout", $"{ScriptTimeout}",
        .. SubSubprotocols is null ? Array.Empty<string>() : ["--subprotocols", SubSubprotocols],
    ];

    /// <summary>Runs the flow against <paramref name="url"/> and returns both outcomes.</summary>
    /// <param name="url">Server URL including the session root, e.g. <c>http://127.0.0.1:P/anon</c>.</param>
    /// <param name="log">Receives every output line.</param>
    public async Task<(NodeRunResult Pub, NodeRunResult Sub)> RunAsync(string url, Action<string>? log)
    {
        await using var sub = await NodeInterop.StartAsync("sub.mjs", SubArguments(url), log);
        await sub.WaitForEventAsync("connected", HardTimeout);
        var pub = await NodeInterop.RunAsync("pub.mjs", PubArguments(url), HardTimeout, log);
        var received = await sub.WaitAsync(HardTimeout);
        return (pub, received);
    }
}
