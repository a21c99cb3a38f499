using System.Globalization;
using System.Text;

namespace MoqCluster.Silo;

/// <summary>
/// The cluster-wide epoch counter: one key holding a decimal number, advanced by compare-and-put so
/// every registration anywhere gets a distinct, larger number. The caller passes the highest epoch
/// it has seen as a floor, so the counter never goes back below epochs still in use (e.g. after
/// etcd came back without its data and nodes re-registered their old entries).
/// </summary>
internal static class EpochCounter
{
    private const int MaxAttempts = 20;

    public static async Task<long> NextAsync(IClusterStore store, string key, long floor, CancellationToken cancellationToken)
    {
        var current = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var next = Math.Max(Parse(current), floor) + 1;
            var result = await store.CompareAndPutAsync(key, Encoding.ASCII.GetBytes(next.ToString(CultureInfo.InvariantCulture)), current?.ModRevision ?? 0, 0, cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return next;
            }

            current = result.Current; // someone else advanced it: retry from their value
        }

        throw new ClusterStoreUnavailableException($"epoch counter {key} stayed contended for {MaxAttempts} attempts");
    }

    private static long Parse(StoreEntry? entry) =>
        entry is not null && long.TryParse(Encoding.ASCII.GetString(entry.Value), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : 0;
}
