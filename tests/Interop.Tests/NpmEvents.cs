using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>Waits on live events of running npm scripts.</summary>
internal static class NpmEvents
{
    /// <summary>
    /// Completes once <c>sub.mjs</c> reported group <paramref name="sequence"/> (a <c>group</c> event). Used to write in
    /// lockstep with a subscriber: <c>@kixelated/moq</c> 0.9.4 drops a group that arrives after a newer one, and a relay
    /// sends newest first, so a burst (a cold start, a slow runner) would legitimately lose the older groups.
    /// </summary>
    public static Task GroupReportedAsync(NodeScript sub, long sequence) =>
        sub.Process.WaitForLineAsync(
            l => JsonLines.TryParse(l, out var e) && JsonLines.EventName(e) == "group" && e.GetProperty("sequence").GetInt64() == sequence,
            NpmFlow.HardTimeout);
}
