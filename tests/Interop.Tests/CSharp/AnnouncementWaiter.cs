using MoqCluster.Protocol.Model;

namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>Waits on a C# announcement feed for a broadcast to become active (or to end).</summary>
internal static class AnnouncementWaiter
{
    /// <summary>The broadcast once <paramref name="path"/> is announced active (the initial set counts).</summary>
    /// <exception cref="TimeoutException">Not announced within <paramref name="timeout"/> (a hang guard).</exception>
    public static async Task<BroadcastConsumer> ActiveAsync(AnnouncedConsumer feed, string path, TimeSpan timeout, Func<string>? describe = null)
    {
        foreach (var a in feed.Initial)
        {
            if (a.Path.ToString() == path && a.Broadcast is { } initial)
            {
                return initial;
            }
        }

        return await NextAsync(feed, path, active: true, timeout, describe) ?? throw new InvalidOperationException("unreachable");
    }

    /// <summary>Waits for the next change of <paramref name="path"/> to the given state; returns its broadcast (null when ended).</summary>
    public static async Task<BroadcastConsumer?> NextAsync(AnnouncedConsumer feed, string path, bool active, TimeSpan timeout, Func<string>? describe = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        var seen = new List<string>();
        try
        {
            while (true)
            {
                var a = await feed.NextAsync(cts.Token) ?? throw new InvalidOperationException($"announcement feed closed; seen: {string.Join(", ", seen)}");
                seen.Add($"{a.Path}={(a.Broadcast is null ? "ended" : "active")}");
                if (a.Path.ToString() == path && (a.Broadcast is not null) == active)
                {
                    return a.Broadcast;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"'{path}' not announced {(active ? "active" : "ended")} within {timeout}; seen: {string.Join(", ", seen)}\n{describe?.Invoke()}");
        }
    }
}
