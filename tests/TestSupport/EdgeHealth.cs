using System.Diagnostics;

namespace MoqCluster.TestSupport;

/// <summary>Readiness of an edge, wherever it runs (a child process, a container): its <c>GET /health</c> answers 2xx.</summary>
public static class EdgeHealth
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>
    /// Polls <c>{url}/health</c> until it answers with a success status. A real HTTP answer, not an open port: a
    /// port can accept connections before the app listens (Kestrel starting, docker-proxy in front of a container).
    /// </summary>
    /// <param name="url">The edge's base URL, e.g. <c>http://127.0.0.1:4443</c>.</param>
    /// <param name="timeout">How long to keep asking.</param>
    /// <param name="alive">Asked before each try; false stops the wait at once (e.g. the process exited).</param>
    /// <returns>True once healthy; false when <paramref name="timeout"/> passed or <paramref name="alive"/> said no.</returns>
    public static async Task<bool> WaitAsync(string url, TimeSpan timeout, Func<bool>? alive = null)
    {
        var clock = Stopwatch.StartNew();
        while (alive?.Invoke() ?? true)
        {
            try
            {
                using var response = await Client.GetAsync($"{url}/health");
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or slow to answer while starting.
            }

            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return false;
    }
}
