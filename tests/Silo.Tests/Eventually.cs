using System.Diagnostics;

namespace MoqCluster.Silo.Tests;

/// <summary>Polling waits with a hang guard.</summary>
public static class Eventually
{
    /// <summary>Poll <paramref name="condition"/> every 20 ms until true; throw after <paramref name="timeout"/>.</summary>
    public static async Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"not true within {timeout}: {what}");
            }

            await Task.Delay(20);
        }

        return clock.Elapsed;
    }
}
