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
    private readonly object _lock = new();
    private readonly Watch _watch = new();
    private Frame[] _frames = [];
    private int _count;
    private long _bytes;
    private List<byte[]>? _rented;
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
            lock (_lock)
                return _count;
        }
    }

    /// <summary>Payload bytes written so far.</summary>
    public long ByteCount
    {
        get
        {
            lock (_lock)
                return _bytes;
        }
    }

    /// <summary>Appends a frame. Throws when the group is closed.</summary>
    public void WriteFrame(Frame frame)
    {
        lock (_lock)
        {
            if (IsClosed)
                throw new InvalidOperationException($"group {Sequence} is closed");
            Append(frame);
        }
    }

    /// <summary>
    /// Appends a frame whose payload is the first <paramref name="length"/> bytes of <paramref name="array"/>, rented
    /// from <see cref="PayloadPool"/>; the group owns the array from now on and returns it once no reader
    /// can see it. Throws (and leaves the array with the caller) when the group is closed.
    /// </summary>
    internal void WritePooledFrame(byte[] array, int length, long timestamp)
    {
        lock (_lock)
        {
            if (IsClosed)
                throw new InvalidOperationException($"group {Sequence} is closed");
            (_rented ??= new List<byte[]>(32)).Add(array);
            Append(new Frame(array.AsMemory(0, length), timestamp));
        }
    }

    private void Append(Frame frame)
    {
        if (_count == _frames.Length)
        {
            // Pooled: one array per group would otherwise be allocated and regrown for every group received.
            var grown = ArrayPool<Frame>.Shared.Rent(Math.Max(16, _frames.Length * 2));
            _frames.AsSpan(0, _count).CopyTo(grown);
            if (_frames.Length > 0)
                ArrayPool<Frame>.Shared.Return(_frames, clearArray: true);
            _frames = grown;
        }
        _frames[_count++] = frame;
        _bytes += frame.Payload.Length;
        _watch.Notify();
    }

    /// <summary>Appends a frame with the given payload and timestamp.</summary>
    public void WriteFrame(ReadOnlyMemory<byte> payload, long timestamp = 0) => WriteFrame(new Frame(payload, timestamp));

    /// <summary>Marks the group complete. Idempotent.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (IsClosed)
                return;
            IsClosed = true;
            _watch.Notify();
        }
    }

    /// <summary>Abandons the group; consumers that have not read every frame see the code. Idempotent.</summary>
    public void Abort(MoqErrorCode code)
    {
        lock (_lock)
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
        lock (_lock)
            _escaped = true;
        return new GroupConsumer(this, leased: false);
    }

    /// <summary>
    /// A reader that holds this group's payloads until it is disposed, or null when they were already returned
    /// to the pool (the group left the cache and nobody held it).
    /// </summary>
    public GroupConsumer? ConsumeLeased()
    {
        lock (_lock)
        {
            if (_recycled)
                return null;
            _holds++;
        }
        return new GroupConsumer(this, leased: true);
    }

    /// <summary>The track dropped this group from its cache: its hold goes. Idempotent.</summary>
    internal void Retire()
    {
        lock (_lock)
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
        lock (_lock)
            _holds++;
    }

    void ISharedPayloadOwner.ReleaseHold() => ReleaseHold();

    /// <summary>Drops one hold; the last one returns pooled payloads, unless a plain reader may still see them.</summary>
    internal void ReleaseHold()
    {
        List<byte[]> arrays;
        lock (_lock)
        {
            if (--_holds > 0 || _escaped || _recycled || _rented is null)
                return;
            _recycled = true;
            arrays = _rented;
            _rented = null;
            // Nothing may reach the payloads any more: readers of a recycled group see it as gone.
            _frames.AsSpan(0, _count).Clear();
            if (_frames.Length > 0)
                ArrayPool<Frame>.Shared.Return(_frames);
            _frames = [];
            _count = 0;
        }
        foreach (var array in arrays)
            PayloadPool.Shared.Return(array);
    }

    /// <summary>
    /// Gets frame <paramref name="index"/> if written; otherwise reports whether the group ended
    /// (<paramref name="ended"/>) or returns a task to wait on.
    /// </summary>
    internal bool TryGetFrame(int index, out Frame frame, out bool ended, out Task? wait)
    {
        lock (_lock)
        {
            if (_recycled)
                throw new ProtocolException(MoqErrorCode.Old, $"group {Sequence} left the cache");
            if (index < _count)
            {
                frame = _frames[index];
                ended = false;
                wait = null;
                return true;
            }
            frame = default;
            if (IsClosed)
            {
                if (AbortCode is { } code)
                    throw new ProtocolException(code, $"group {Sequence} aborted ({code})");
                ended = true;
                wait = null;
                return false;
            }
            ended = false;
            wait = _watch.Next();
            return false;
        }
    }
}
