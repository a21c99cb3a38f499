namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Parked <see cref="AsyncWaiter"/>s of one condition, woken all at once: an intrusive doubly linked list, so parking
/// and a cancelled waiter leaving cost no allocation and no search. Every member except
/// <see cref="IWaiterOwner.Remove"/> is called under the owner's lock: a <see cref="Lock"/> or a monitor object
/// given at construction, or the list itself when none is given.
/// </summary>
internal class WaiterList : IWaiterOwner
{
    private readonly Lock? _lock;
    private readonly object? _monitor;
    private AsyncWaiter? _parked;

    /// <summary>A list guarded by <paramref name="monitor"/> (<c>lock (monitor)</c>), or by itself when null.</summary>
    public WaiterList(object? monitor = null) => _monitor = monitor;

    /// <summary>A list guarded by <paramref name="sync"/>.</summary>
    public WaiterList(Lock sync) => _lock = sync;

    /// <summary>True while a waiter is parked.</summary>
    public bool HasWaiters => _parked is not null;

    /// <summary>
    /// Parks <paramref name="waiter"/> until the next <see cref="WakeAll"/> or until <paramref name="cancellationToken"/>
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

    /// <summary>
    /// Wakes every parked waiter, their continuations queued to the thread pool (never run inside the lock). Call under
    /// the owner's lock after changing state.
    /// </summary>
    public void WakeAll() => CompleteClaimed(ClaimAll(), allowInline: false);

    /// <summary>
    /// Takes every parked waiter out of the list and claims its wait (<see cref="AsyncWaiter.TryClaim"/>); returns
    /// them chained through <see cref="AsyncWaiter.ClaimedNext"/> for <see cref="CompleteClaimed"/>. Call under the
    /// owner's lock after changing state; complete the chain after leaving it, so continuations that run inline
    /// never run inside the lock.
    /// </summary>
    public AsyncWaiter? ClaimAll()
    {
        AsyncWaiter? claimed = null;
        var parked = _parked;
        _parked = null;
        while (parked is not null)
        {
            var next = parked.Next;
            parked.Previous = parked.Next = null;
            parked.Linked = false;
            // A waiter whose token fired meanwhile is completed by its cancellation, not here.
            if (parked.TryClaim())
            {
                parked.ClaimedNext = claimed;
                claimed = parked;
            }
            parked = next;
        }
        return claimed;
    }

    /// <summary>
    /// Completes waiters claimed by <see cref="ClaimAll"/>; those marked <see cref="AsyncWaiter.WakeInline"/> run here
    /// unless <paramref name="allowInline"/> is false. Call outside the owner's lock when inline runs are allowed.
    /// </summary>
    public static void CompleteClaimed(AsyncWaiter? claimed, bool allowInline = true)
    {
        while (claimed is not null)
        {
            // Read before completing: an inline continuation may park the waiter again.
            var next = claimed.ClaimedNext;
            claimed.ClaimedNext = null;
            claimed.CompleteClaimed(allowInline);
            claimed = next;
        }
    }

    /// <summary>A cancelled waiter leaves the list (from its token's callback, outside the owner's lock).</summary>
    void IWaiterOwner.Remove(AsyncWaiter waiter)
    {
        if (_lock is not null)
        {
            lock (_lock)
                Unlink(waiter);
        }
        else
        {
            lock (_monitor ?? this)
                Unlink(waiter);
        }
    }

    private void Unlink(AsyncWaiter waiter)
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
