using System.Threading.Tasks.Sources;

namespace MoqCluster.Protocol.Transport;

/// <summary>Where a parked <see cref="AsyncWaiter"/> is registered: told when a cancellation takes it out.</summary>
internal interface IWaiterOwner
{
    /// <summary>Forgets <paramref name="waiter"/> if it is still registered; takes the owner's own lock. Idempotent.</summary>
    void Remove(AsyncWaiter waiter);
}

/// <summary>
/// A reusable, cancellable wait for one waiter at a time: what a parked reader awaits instead of a new
/// <see cref="TaskCompletionSource"/> plus a <see cref="Task.WaitAsync(CancellationToken)"/> promise for its token on
/// every wait. A relay's readers park once per frame (every subscriber's group reader, every stream reader), so
/// those two objects were most of what it allocated per forwarded frame. Borrow one from <see cref="Rent"/> for a
/// wait and give it back with <see cref="Return"/> once the wait has been awaited.
/// </summary>
/// <remarks>
/// <para>The owner arms it under its lock (<see cref="Arm"/>), after deciding to park, and wakes it under the same
/// lock (<see cref="Wake"/>), or claims it under the lock (<see cref="TryClaim"/>) and completes it after letting the
/// lock go (<see cref="CompleteClaimed"/>); exactly one of the wake and the token's cancellation completes each wait.
/// Continuations run on the thread pool, never inside the owner's lock; a waiter marked <see cref="WakeInline"/> runs
/// its continuation on the thread that completes a claimed wait.</para>
/// <para>A wake may be spurious (an owner may wake a waiter whose condition has not changed): callers re-check their
/// state in a loop, as they did with the task-based watch.</para>
/// </remarks>
internal sealed class AsyncWaiter : IValueTaskSource, IValueTaskSource<int>
{
    private static readonly Action<object?, CancellationToken> OnCancel = static (state, token) => ((AsyncWaiter)state!).Cancel(token);

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    // The token of a registration kept between waits (KeepsRegistration); default when none is kept.
    private CancellationToken _keptToken;
    private IWaiterOwner? _owner;
    private int _armed;
    // Set by ArmOnce: the wait is handed out as the task itself, and the waiter goes back to the pool when it is awaited.
    private bool _oneShot;

    /// <summary>The owner list's links while parked; guarded by the owner's lock.</summary>
    internal AsyncWaiter? Previous;

    /// <inheritdoc cref="Previous" />
    internal AsyncWaiter? Next;

    /// <summary>True while parked in an owner's list; guarded by the owner's lock.</summary>
    internal bool Linked;

    /// <summary>The next waiter claimed by the same wake (<see cref="WaiterList.ClaimAll"/>); owned by the claimer.</summary>
    internal AsyncWaiter? ClaimedNext;

    /// <summary>
    /// Lets <see cref="CompleteClaimed"/> run the continuation on the completing thread instead of queueing it: for a
    /// waiter whose continuation is short and takes no lock the waker may hold (a relay's group sender: it writes the
    /// frame and parks again, so a frame reaches every subscriber without a thread-pool hop per subscriber). Set by
    /// the waiter's owner while no wait is pending.
    /// </summary>
    public bool WakeInline { get; set; }

    /// <summary>
    /// Keeps the token registration from one wait to the next while the token stays the same, instead of registering
    /// and unregistering around every wait: for a waiter that parks many times under one token (a relay's group sender
    /// parks once per frame under its group's token, and the two calls were a few percent of a busy relay). The owner
    /// ends it with <see cref="EndRegistration"/> before the token's source is reset and before a wait under another
    /// token (or none), which <see cref="Arm"/> refuses until then. Set by the waiter's owner while no wait is pending.
    /// </summary>
    public bool KeepsRegistration { get; init; }

    /// <summary>
    /// Starts a wait. Call under the owner's lock, after registering the waiter with <paramref name="owner"/> (if any).
    /// A token that is already cancelled completes the wait at once (the owner's <see cref="IWaiterOwner.Remove"/>
    /// then runs on this thread, inside the owner's lock, so that lock must be reentrant).
    /// </summary>
    /// <exception cref="InvalidOperationException">A wait is already pending.</exception>
    public ValueTask Arm(IWaiterOwner? owner, CancellationToken cancellationToken)
    {
        if (_armed != 0)
            throw new InvalidOperationException("a wait is already pending on this waiter");
        // Ending the kept registration here would wait for its callback inside the owner's lock, which the callback
        // takes: the owner ends it first (EndRegistration, outside that lock).
        if (_keptToken.CanBeCanceled && _keptToken != cancellationToken)
            throw new InvalidOperationException("end the kept registration (EndRegistration) before waiting under another token");
        _core.Reset();
        _owner = owner;
        Volatile.Write(ref _armed, 1);
        if (!cancellationToken.CanBeCanceled)
            return new ValueTask(this, _core.Version);
        if (!KeepsRegistration)
        {
            _registration = cancellationToken.UnsafeRegister(OnCancel, this);
        }
        else if (!_keptToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(OnCancel, this);
            _keptToken = cancellationToken;
        }
        else if (cancellationToken.IsCancellationRequested)
        {
            // The kept registration's callback may have run between two waits and found none armed; exactly one of
            // this and a callback still running completes the wait (both race for _armed).
            Cancel(cancellationToken);
        }
        return new ValueTask(this, _core.Version);
    }

    /// <summary>
    /// Like <see cref="Arm"/>, for a waiter rented for this one wait and handed out as the task itself (result 0):
    /// it returns to the pool when awaited, so a parked caller holds nothing else, not even a state machine.
    /// </summary>
    public ValueTask<int> ArmOnce(IWaiterOwner? owner, CancellationToken cancellationToken)
    {
        _oneShot = true;
        _ = Arm(owner, cancellationToken);
        return new ValueTask<int>(this, _core.Version);
    }

    /// <summary>Completes the pending wait, if any. Call under the owner's lock, after unregistering the waiter.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.RunContinuationsAsynchronously = true;
            _core.SetResult(true);
        }
    }

    /// <summary>
    /// Takes the pending wait, if any, for <see cref="CompleteClaimed"/>: from here on neither a wake nor the token can
    /// complete it, so the claimer may finish it after leaving the owner's lock. Call under the owner's lock, after
    /// unregistering the waiter.
    /// </summary>
    public bool TryClaim() => Interlocked.Exchange(ref _armed, 0) == 1;

    /// <summary>
    /// Completes a wait taken by <see cref="TryClaim"/>; its continuation runs right here when <see cref="WakeInline"/>
    /// is set and <paramref name="allowInline"/> is true (then call it outside the owner's lock), else on the thread pool.
    /// </summary>
    public void CompleteClaimed(bool allowInline = true)
    {
        _core.RunContinuationsAsynchronously = !(allowInline && WakeInline);
        _core.SetResult(true);
    }

    /// <summary>
    /// Drops a registration kept by <see cref="KeepsRegistration"/>, waiting for its callback if one is running. Call
    /// while no wait is pending and outside the owner's lock (the callback takes it).
    /// </summary>
    public void EndRegistration()
    {
        _registration.Dispose();
        _registration = default;
        _keptToken = default;
    }

    private void Cancel(CancellationToken token)
    {
        // Out of the owner's list first, so nothing can wake this waiter once its wait is over.
        _owner?.Remove(this);
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.RunContinuationsAsynchronously = true;
            _core.SetException(new OperationCanceledException(token));
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token)
    {
        // Waits for a cancellation callback still running elsewhere, so none can touch the next wait. Never called
        // inside the owner's lock (the callback takes it): Wake and Cancel queue their continuations, and
        // CompleteClaimed runs outside that lock. A kept registration stays: its token cancels the next wait as well.
        if (!KeepsRegistration)
        {
            _registration.Dispose();
            _registration = default;
        }
        _owner = null;
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    int IValueTaskSource<int>.GetResult(short token)
    {
        try
        {
            ((IValueTaskSource)this).GetResult(token);
            return 0;
        }
        finally
        {
            // Awaited exactly once (the ValueTask contract): nothing touches this waiter after this.
            if (_oneShot)
            {
                _oneShot = false;
                Return(this);
            }
        }
    }

    // ------------------------------------------------------------------ pool

    /// <summary>Free waiters kept; enough for every reader of a large fan-out parking on the same frame.</summary>
    private const int MaxPooled = 1 << 16;

    private static readonly Lock PoolLock = new();
    private static AsyncWaiter[] _pool = new AsyncWaiter[64];
    private static int _pooled;

    /// <summary>A waiter for one wait, from the pool or new, with <see cref="WakeInline"/> as given.</summary>
    public static AsyncWaiter Rent(bool wakeInline = false)
    {
        AsyncWaiter? waiter = null;
        lock (PoolLock)
        {
            if (_pooled > 0)
            {
                waiter = _pool[--_pooled];
                _pool[_pooled] = null!;
            }
        }
        waiter ??= new AsyncWaiter();
        waiter.WakeInline = wakeInline;
        return waiter;
    }

    /// <summary>Gives back a waiter whose last wait has been awaited (or that never waited); one still pending is dropped.</summary>
    public static void Return(AsyncWaiter waiter)
    {
        if (Volatile.Read(ref waiter._armed) != 0)
            return;
        lock (PoolLock)
        {
            if (_pooled == _pool.Length)
            {
                if (_pool.Length >= MaxPooled)
                    return;
                Array.Resize(ref _pool, _pool.Length * 2);
            }
            _pool[_pooled++] = waiter;
        }
    }
}
