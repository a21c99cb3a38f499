using System.Runtime.CompilerServices;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A reader of one group with its own cursor; cheap to create, one per subscriber. A leased reader
/// (<see cref="GroupProducer.ConsumeLeased"/>, <see cref="TrackConsumer.NextLeasedGroupAsync"/>) keeps the group's
/// pooled payloads from being reused until it is disposed: frames it returned must not be used after that.
/// Disposing a plain reader does nothing.
/// </summary>
public sealed class GroupConsumer : IDisposable
{
    private readonly GroupProducer _group;
    private int _next;
    private int _leased;

    internal GroupConsumer(GroupProducer group, bool leased)
    {
        _group = group;
        _leased = leased ? 1 : 0;
    }

    /// <summary>The group sequence number.</summary>
    public ulong Sequence => _group.Sequence;

    /// <summary>The group this consumer reads.</summary>
    public GroupProducer Group => _group;

    /// <summary>
    /// Whether a parked <see cref="ReadFrameAsync"/> resumes on the thread that wrote the frame (a session's receive
    /// loop) instead of the thread pool. Off by default. Turn it on only when the code between two reads is short and
    /// never blocks: it then runs on the receive loop, which saves a thread-pool hop per frame (a relay's copy loops
    /// reach the subscribers' senders in the same <see cref="SendBurst"/>; a subscriber sees each frame at once), but
    /// a slow continuation holds up every stream of that session.
    /// </summary>
    public bool ResumeInline { get; set; }

    /// <summary>Frames read so far.</summary>
    public int Position => _next;

    /// <summary>
    /// Reads the next frame in order; null once the group finished. Throws
    /// <see cref="Coding.ProtocolException"/> with the abort code when the group was aborted.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Frame?> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        // Borrowed only to park: a reader that keeps up with the writer parks once per frame, and a pooled waiter
        // makes that free of allocations.
        AsyncWaiter? waiter = null;
        try
        {
            while (true)
            {
                if (_group.TryGetFrame(_next, out var frame, out var ended, waiter, cancellationToken, out var wait))
                {
                    _next++;
                    return frame;
                }
                if (ended)
                    return null;
                if (waiter is null)
                    waiter = AsyncWaiter.Rent(ResumeInline); // and look again, parking this time
                else
                    await wait.ConfigureAwait(false);
            }
        }
        finally
        {
            if (waiter is not null)
                AsyncWaiter.Return(waiter);
        }
    }

    /// <summary>Returns the next frame if it is already available, without waiting.</summary>
    public bool TryReadFrame(out Frame frame, out bool ended)
    {
        if (_group.TryGetFrame(_next, out frame, out ended, null, default, out _))
        {
            _next++;
            return true;
        }
        return false;
    }

    /// <summary>Ends a lease: the group may return its pooled payloads once nothing else holds them. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _leased, 0) != 0)
            _group.ReleaseHold();
    }
}
