namespace MoqCluster.Bench.Load;

/// <summary>
/// How far the subscribers of one broadcast have read: the sum over its subscriptions of the highest
/// frame sequence each has seen. A saturating publisher stays at most a window ahead of the average,
/// which keeps the run closed-loop (bounded memory) without waiting for the slowest subscriber.
/// </summary>
internal sealed class BroadcastProgress
{
    private long _sum;
    private int _subscriptions;

    /// <summary>Counts one more live subscription; its starting position is <paramref name="start"/> (usually -1).</summary>
    public void Join(long start)
    {
        Interlocked.Increment(ref _subscriptions);
        Interlocked.Add(ref _sum, start);
    }

    /// <summary>Removes a subscription whose highest sequence was <paramref name="highest"/>.</summary>
    public void Leave(long highest)
    {
        Interlocked.Add(ref _sum, -highest);
        Interlocked.Decrement(ref _subscriptions);
    }

    /// <summary>A subscription moved its highest sequence forward by <paramref name="delta"/>.</summary>
    public void Advance(long delta) => Interlocked.Add(ref _sum, delta);

    /// <summary>The average highest sequence seen, or null when nobody subscribes.</summary>
    public double? Average
    {
        get
        {
            var n = Volatile.Read(ref _subscriptions);
            return n == 0 ? null : (double)Interlocked.Read(ref _sum) / n;
        }
    }
}
