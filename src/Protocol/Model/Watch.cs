using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A change signal for producer/consumer pairs: consumers wait for the next change, producers bump it.
/// Hot readers (a group reader per subscriber, parked once per frame) park a pooled <see cref="AsyncWaiter"/>
/// (<see cref="Park"/>), which costs no allocation; occasional ones take a task (<see cref="Next"/>), allocated only
/// when someone actually waits. Every member except <see cref="IWaiterOwner.Remove"/> is called under the owner's lock:
/// <c>sync</c>, or the watch itself when none is given (one object less per group).
/// </summary>
internal sealed class Watch(object? sync = null) : IWaiterOwner
{
    private TaskCompletionSource? _waiter;
    private AsyncWaiter? _parked;

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

    /// <summary>
    /// Parks <paramref name="waiter"/> until the next <see cref="Notify"/> or until <paramref name="cancellationToken"/>
    /// fires. Call under the owner's lock, after checking state; await the result outside it.
    /// </summary>
    public ValueTask Park(AsyncWaiter waiter, CancellationToken cancellationToken)
    {
        waiter.Previous = null;
        waiter.Next = _parked;
        if (_parked is not null)
            _parked.Previous = waiter;
        _parked = waiter;
        waiter.Linked = true;
        return waiter.Arm(this, cancellationToken);
    }

    /// <summary>Wakes every waiter. Call under the owner's lock after changing state.</summary>
    public void Notify()
    {
        var parked = _parked;
        _parked = null;
        while (parked is not null)
        {
            var next = parked.Next;
            parked.Previous = parked.Next = null;
            parked.Linked = false;
            parked.Wake();
            parked = next;
        }
        var waiter = _waiter;
        if (waiter is null)
            return;
        _waiter = null;
        waiter.TrySetResult();
    }

    /// <summary>A cancelled waiter leaves the list (from its token's callback, outside the owner's lock).</summary>
    void IWaiterOwner.Remove(AsyncWaiter waiter)
    {
        lock (sync ?? this)
        {
            if (!waiter.Linked)
                return;
            if (waiter.Previous is { } previous)
                previous.Next = waiter.Next;
            else
                _parked = waiter.Next;
            if (waiter.Next is { } next)
                next.Previous = waiter.Previous;
            waiter.Previous = waiter.Next = null;
            waiter.Linked = false;
        }
    }
}
