namespace MoqCluster.Bench.Load;

/// <summary>
/// How far the subscribers of one broadcast have read: the sum over its subscriptions of the highest
/// frame sequence each has seen. A saturating publisher stays at most a window ahead of the average,
/// which keeps the run closed-loop (bounded memory) without waiting for the slowest subscriber.
/// </summary>
/// <remarks>
/// The publisher waits for the average to pass a mark (<see cref="WaitForAverageAsync"/>) and is woken by the
/// subscription that moves it there, not by polling: a timer-paced poll (1 ms at best, often far more on a busy
/// core) left relay and generator idle between bursts and measured the poll instead of the relay.
/// </remarks>
internal sealed class BroadcastProgress
{
    private long _sum;
    private int _subscriptions;
    // The sum the waiting publisher needs (long.MaxValue: nobody waits) and its wake-up.
    private long _wakeAt = long.MaxValue;
    private TaskCompletionSource? _waiter;

    /// <summary>Counts one more live subscription; its starting position is <paramref name="start"/> (usually -1).</summary>
    public void Join(long start)
    {
        Interlocked.Increment(ref _subscriptions);
        Interlocked.Add(ref _sum, start);
        Wake(); // the mark moved: the publisher looks again
    }

    /// <summary>Removes a subscription whose highest sequence was <paramref name="highest"/>.</summary>
    public void Leave(long highest)
    {
        Interlocked.Add(ref _sum, -highest);
        Interlocked.Decrement(ref _subscriptions);
        Wake();
    }

    /// <summary>A subscription moved its highest sequence forward by <paramref name="delta"/>.</summary>
    public void Advance(long delta)
    {
        if (Interlocked.Add(ref _sum, delta) >= Volatile.Read(ref _wakeAt))
            Wake();
    }

    /// <summary>The average highest sequence seen, or null when nobody subscribes.</summary>
    public double? Average
    {
        get
        {
            var n = Volatile.Read(ref _subscriptions);
            return n == 0 ? null : (double)Interlocked.Read(ref _sum) / n;
        }
    }

    /// <summary>
    /// Completes once the average highest sequence reaches <paramref name="average"/> or the subscriptions change;
    /// one waiter (the broadcast's publisher) at a time.
    /// </summary>
    public Task WaitForAverageAsync(long average, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiter, waiter);
        var n = Volatile.Read(ref _subscriptions);
        Volatile.Write(ref _wakeAt, n == 0 ? long.MaxValue : average * n);
        // Looked at after publishing the mark, so an advance in between is not missed.
        if (n > 0 && Interlocked.Read(ref _sum) >= average * n)
            Wake();
        return waiter.Task.WaitAsync(cancellationToken);
    }

    private void Wake()
    {
        Volatile.Write(ref _wakeAt, long.MaxValue);
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }
}
