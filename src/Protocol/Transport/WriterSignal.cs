using System.Threading.Tasks.Sources;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Wakes a connection's single writer loop. Signals coalesce; waiting allocates nothing. A signal may run the writer
/// inline on the signalling thread (<see cref="Signal(bool)"/> with <c>inline: true</c>): the writer then composes and
/// sends right there, until it has nothing left or a send has to wait, instead of costing a thread-pool hop and a
/// context switch per write.
/// </summary>
/// <remarks>
/// Inline signals must come from a thread that holds no lock the writer takes. Inside a <see cref="SendBurst"/>
/// an inline signal to a parked writer is held until the burst ends, so the writer sends the burst's writes together.
/// </remarks>
internal sealed class WriterSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Signalled = 2;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;
    private int _held;

    /// <summary>Completes at the next signal, or at once when one came since the last wait. One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
            return ValueTask.CompletedTask;
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Signalled)
        {
            // Signalled between the two exchanges: consume it.
            Volatile.Write(ref _state, Idle);
            return ValueTask.CompletedTask;
        }
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Wakes the writer; with <paramref name="inline"/> its continuation runs on this thread before this returns.</summary>
    public void Signal(bool inline = false)
    {
        // Only a parked writer is worth holding: a busy one finds the write in its next batch anyway.
        if (inline && IsWaiting && SendBurst.TryHold(this))
            return;
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state == Signalled)
                return;
            if (state == Idle)
            {
                if (Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle)
                    return;
                continue;
            }
            if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
            {
                _core.RunContinuationsAsynchronously = !inline;
                _core.SetResult(true);
                return;
            }
        }
    }

    /// <summary>Whether the writer is parked in <see cref="WaitAsync"/> with no signal pending.</summary>
    internal bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    /// <summary>Marks this signal as held by a burst; false when it already is (hold it once).</summary>
    internal bool TryMarkHeld() => Interlocked.Exchange(ref _held, 1) == 0;

    /// <summary>The burst that held this signal ended: deliver it inline.</summary>
    internal void ReleaseHeld()
    {
        Volatile.Write(ref _held, 0);
        Signal(inline: true);
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
