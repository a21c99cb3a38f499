using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A change signal for producer/consumer pairs: consumers wait for the next change, producers bump it.
/// Hot readers (a group reader per subscriber, parked once per frame) park a pooled <see cref="AsyncWaiter"/>
/// (<see cref="WaiterList.Park"/>), which costs no allocation; occasional ones take a task (<see cref="Next"/>),
/// allocated only when someone actually waits. Called under the owner's lock (<c>sync</c>, or the watch itself).
/// </summary>
internal sealed class Watch(object? sync = null) : WaiterList(sync)
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
        WakeAll();
        CompleteNext();
    }

    /// <summary>
    /// Like <see cref="Notify"/>, but the parked waiters are only claimed: complete them with
    /// <see cref="WaiterList.CompleteClaimed"/> after leaving the owner's lock, where those marked
    /// <see cref="AsyncWaiter.WakeInline"/> run on the calling thread.
    /// </summary>
    public AsyncWaiter? NotifyClaimed()
    {
        CompleteNext();
        return ClaimAll();
    }

    private void CompleteNext()
    {
        var waiter = _waiter;
        if (waiter is null)
            return;
        _waiter = null;
        waiter.TrySetResult();
    }
}
