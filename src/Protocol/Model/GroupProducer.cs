using System.Buffers;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// The writing half of a group: appends frames in order, then finishes or aborts. Frames are kept
/// (shared, not copied) so every consumer can read the group from its first frame.
/// </summary>
/// <remarks>
/// A relay receives payloads into pooled arrays (<see cref="WritePooledFrame"/>). Those go back to the pool
/// only when nothing can still read them: the track has dropped the group from its cache, every leased reader
/// (<see cref="ConsumeLeased"/>) is disposed, every QMux send queue holding a payload by reference has sent or
/// dropped it, and no reader was ever handed out through <see cref="Consume"/> — such a reader may keep frames
/// forever, so its group's arrays are left to the garbage collector instead.
/// </remarks>
public sealed class GroupProducer : ISharedPayloadOwner
{
    // The watch doubles as the group's lock: one object less per group.
    private readonly Watch _watch = new();
    private Frame[] _frames = [];
    private int _count;
    private long _bytes;
    // Pooled, like _frames: the arrays of WritePooledFrame, returned to PayloadPool when nothing can see them.
    private byte[][] _rented = [];
    private int _rentedCount;
    // One hold for the track cache (dropped by Retire), one per leased reader, one per queued shared send.
    private int _holds = 1;
    private bool _retired;
    private bool _escaped;
    private bool _recycled;

    /// <summary>Creates an open group.</summary>
    public GroupProducer(ulong sequence)
    {
        Sequence = sequence;
        ArrivedAt = Environment.TickCount64;
    }

    /// <summary>The group sequence number.</summary>
    public ulong Sequence { get; }

    /// <summary>When the group was created (<see cref="Environment.TickCount64"/> milliseconds).</summary>
    public long ArrivedAt { get; }

    /// <summary>True once finished or aborted.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>When a newer group arrived on the track (milliseconds), or null while this is the latest.</summary>
    public long? SupersededAt { get; internal set; }

    /// <summary>The abort code when the group was aborted; null while open or when finished cleanly.</summary>
    public MoqErrorCode? AbortCode { get; private set; }

    /// <summary>Frames written so far.</summary>
    public int FrameCount
    {
        get
        {
            lock (_watch)
                return _count;
        }
    }

    /// <summary>Payload bytes written so far.</summary>
    /// <remarks>
    /// Read without the group's lock (written under it; 64-bit reads are atomic on the 64-bit runtimes we target): the
    /// track sums its cached groups on every append, and a lock per group there made opening a group cost more than
    /// sending it.
    /// </remarks>
    public long ByteCount => Volatile.Read(ref _bytes);

    /// <summary>Appends a frame. Throws when the group is closed.</summary>
    public void WriteFrame(Frame frame)
    {
        AsyncWaiter? woken;
        lock (_watch)
        {
            if (IsClosed)
                throw new InvalidOperationException($"group {Sequence} is closed");
            woken = Append(frame);
        }
        WaiterList.CompleteClaimed(woken);
    }

    /// <summary>
    /// Appends a frame whose payload is the first <paramref name="length"/> bytes of <paramref name="array"/>, rented
    /// from <see cref="PayloadPool"/>; the group owns the array from now on and returns it once no reader
    /// can see it. Throws (and leaves the array with the caller) when the group is closed.
    /// </summary>
    internal void WritePooledFrame(byte[] array, int length, long timestamp)
    {
        AsyncWaiter? woken;
        lock (_watch)
        {
            if (IsClosed)
                throw new InvalidOperationException($"group {Sequence} is closed");
            if (_rentedCount == _rented.Length)
                _rented = Grow(_rented, _rentedCount);
            _rented[_rentedCount++] = array;
            woken = Append(new Frame(array.AsMemory(0, length), timestamp));
        }
        WaiterList.CompleteClaimed(woken);
    }

    /// <summary>
    /// Stores the frame and claims the parked readers; the caller completes them after leaving the lock, so readers
    /// marked <see cref="AsyncWaiter.WakeInline"/> (a relay's group senders) send the frame on this thread, each in
    /// turn, instead of costing a thread-pool hop per subscriber.
    /// </summary>
    private AsyncWaiter? Append(Frame frame)
    {
        // Pooled: one array per group would otherwise be allocated and regrown for every group received.
        if (_count == _frames.Length)
            _frames = Grow(_frames, _count);
        _frames[_count++] = frame;
        _bytes += frame.Payload.Length;
        return _watch.NotifyClaimed();
    }

    /// <summary>A pooled array twice the size (at least 16) holding the first <paramref name="count"/> items; the old one goes back cleared.</summary>
    private static T[] Grow<T>(T[] array, int count)
    {
        var grown = ArrayPool<T>.Shared.Rent(Math.Max(16, array.Length * 2));
        array.AsSpan(0, count).CopyTo(grown);
        if (array.Length > 0)
            ArrayPool<T>.Shared.Return(array, clearArray: true);
        return grown;
    }

    /// <summary>Appends a frame with the given payload and timestamp.</summary>
    public void WriteFrame(ReadOnlyMemory<byte> payload, long timestamp = 0) => WriteFrame(new Frame(payload, timestamp));

    /// <summary>Marks the group complete. Idempotent.</summary>
    public void Finish()
    {
        AsyncWaiter? woken;
        lock (_watch)
        {
            if (IsClosed)
                return;
            IsClosed = true;
            woken = _watch.NotifyClaimed();
        }
        WaiterList.CompleteClaimed(woken);
    }

    /// <summary>Abandons the group; consumers that have not read every frame see the code. Idempotent.</summary>
    public void Abort(MoqErrorCode code)
    {
        lock (_watch)
        {
            if (IsClosed)
                return;
            IsClosed = true;
            AbortCode = code;
            _watch.Notify();
        }
    }

    /// <summary>
    /// A new reader positioned at the first frame. Its frames stay valid for as long as anyone holds them, so
    /// pooled payloads of this group are never reused (see <see cref="GroupConsumer"/>'s leased form for that).
    /// </summary>
    public GroupConsumer Consume()
    {
        lock (_watch)
            _escaped = true;
        return new GroupConsumer(this, leased: false);
    }

    /// <summary>
    /// A reader that holds this group's payloads until it is disposed, or null when they were already returned
    /// to the pool (the group left the cache and nobody held it).
    /// </summary>
    public GroupConsumer? ConsumeLeased() => TryLease() ? new GroupConsumer(this, leased: true) : null;

    /// <summary>
    /// Takes a hold on the payloads, as a leased reader does, for a reader that keeps its own cursor (a relay's
    /// group sender: no reader object per group and subscriber); false when they were already returned to the pool.
    /// Give it back with <see cref="ReleaseHold"/>.
    /// </summary>
    internal bool TryLease()
    {
        lock (_watch)
        {
            if (_recycled)
                return false;
            _holds++;
            return true;
        }
    }

    /// <summary>The track dropped this group from its cache: its hold goes. Idempotent.</summary>
    internal void Retire()
    {
        lock (_watch)
        {
            if (_retired)
                return;
            _retired = true;
        }
        ReleaseHold();
    }

    /// <summary>Takes a hold for a send queue that keeps one of this group's payloads by reference.</summary>
    void ISharedPayloadOwner.AddHold()
    {
        lock (_watch)
            _holds++;
    }

    void ISharedPayloadOwner.ReleaseHold() => ReleaseHold();

    /// <summary>Drops one hold; the last one returns pooled payloads, unless a plain reader may still see them.</summary>
    internal void ReleaseHold()
    {
        byte[][] arrays;
        int rented;
        lock (_watch)
        {
            if (--_holds > 0 || _escaped || _recycled || _rentedCount == 0)
                return;
            _recycled = true;
            arrays = _rented;
            rented = _rentedCount;
            _rented = [];
            _rentedCount = 0;
            // Nothing may reach the payloads any more: readers of a recycled group see it as gone.
            _frames.AsSpan(0, _count).Clear();
            if (_frames.Length > 0)
                ArrayPool<Frame>.Shared.Return(_frames);
            _frames = [];
            _count = 0;
        }
        foreach (var array in arrays.AsSpan(0, rented))
            PayloadPool.Shared.Return(array);
        ArrayPool<byte[]>.Shared.Return(arrays, clearArray: true);
    }

    /// <summary>
    /// Gets frame <paramref name="index"/> if written; otherwise reports whether the group ended
    /// (<paramref name="ended"/>) or, given a <paramref name="waiter"/>, parks it until the next change
    /// (<paramref name="wait"/>; default without a waiter).
    /// </summary>
    internal bool TryGetFrame(int index, out Frame frame, out bool ended, AsyncWaiter? waiter, CancellationToken cancellationToken, out ValueTask wait)
    {
        lock (_watch)
        {
            if (_recycled)
                throw new ProtocolException(MoqErrorCode.Old, $"group {Sequence} left the cache");
            if (index < _count)
            {
                frame = _frames[index];
                ended = false;
                wait = default;
                return true;
            }
            frame = default;
            if (IsClosed)
            {
                if (AbortCode is { } code)
                    throw new ProtocolException(code, $"group {Sequence} aborted ({code})");
                ended = true;
                wait = default;
                return false;
            }
            ended = false;
            wait = waiter is null ? default : _watch.Park(waiter, cancellationToken);
            return false;
        }
    }
}
