namespace MoqCluster.Protocol.Model;

/// <summary>
/// A change signal for producer/consumer pairs: consumers wait for the next change, producers
/// bump it. Waiting allocates only when a waiter actually parks; waking is lock-free for the producer.
/// </summary>
internal sealed class Watch
{
    private TaskCompletionSource? _waiter;

    /// <summary>A task that completes at the next <see cref="Notify"/>. Call under the owner's lock, after checking state.</summary>
    public Task Next()
    {
        var waiter = _waiter;
        if (waiter is not null)
            return waiter.Task;
        waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiter = waiter;
        return waiter.Task;
    }

    /// <summary>Wakes every waiter. Call under the owner's lock after changing state.</summary>
    public void Notify()
    {
        var waiter = _waiter;
        if (waiter is null)
            return;
        _waiter = null;
        waiter.TrySetResult();
    }
}
