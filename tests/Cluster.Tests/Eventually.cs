using System.Diagnostics;

namespace MoqCluster.Cluster.Tests;

/// <summary>Polls a condition until it holds; the timeout is a hang guard, not a speed assertion.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{failure} (waited {timeout})");
            await Task.Delay(100);
        }
    }
}
