namespace MoqCluster.Edge;

/// <summary>
/// Runs socket completions on the socket engine's thread instead of handing each one to the thread pool.
/// </summary>
/// <remarks>
/// A relay does little work per completion (append to a queue, wake a writer), so the hop to the thread pool and the
/// context switch behind it cost more than the work: on 1 → 100, 16 KB frames over TCP/QMux the relay spent
/// 0.52 CPU s per delivered GB with hops and 0.38 without. Kestrel does not follow that switch on its own
/// (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c> stays false), so <see cref="ConfigureKestrel"/> applies
/// it to Kestrel's pipes too: otherwise every WebSocket receive and every flush went through Kestrel's I/O queues.
/// Relay code never blocks a thread (no sync-over-async), which is what inline completions require. An operator's own
/// setting of the variable wins: <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> restores thread-pool dispatch
/// for both.
/// </remarks>
internal static class SocketScheduling
{
    /// <summary>The runtime's switch; read once, when the first socket is created.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Turns inline completions on unless the environment already decided. Call before any socket exists.</summary>
    public static void PreferInlineCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
    }

    /// <summary>Whether socket completions run inline in this process (the variable is "1").</summary>
    public static bool InlineCompletions => Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1";

    /// <summary>
    /// Gives Kestrel's socket transport the choice made for the process (<paramref name="inline"/>, normally
    /// <see cref="InlineCompletions"/>): its pipes then resume on the completing thread.
    /// </summary>
    public static void ConfigureKestrel(IWebHostBuilder webHost, bool inline)
    {
        ArgumentNullException.ThrowIfNull(webHost);
        webHost.UseSockets(options => options.UnsafePreferInlineScheduling = inline);
    }
}
