using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// The writing half of a group: appends frames in order, then finishes or aborts. Frames are kept
/// (shared, not copied) so every consumer can read the group from its first frame.
/// </summary>
public sealed class GroupProducer
{
    private readonly object _lock = new();
    private readonly Watch _watch = new();
    private Frame[] _frames = new Frame[4];
    private int _count;
    private long _bytes;

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
            if (_count == _frames.Length)
                Array.Resize(ref _frames, _frames.Length * 2);
            _frames[_count++] = frame;
            _bytes += frame.Payload.Length;
            _watch.Notify();
        }
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

    /// <summary>A new reader positioned at the first frame.</summary>
    public GroupConsumer Consume() => new(this);

    /// <summary>
    /// Gets frame <paramref name="index"/> if written; otherwise reports whether the group ended
    /// (<paramref name="ended"/>) or returns a task to wait on.
    /// </summary>
    internal bool TryGetFrame(int index, out Frame frame, out bool ended, out Task? wait)
    {
        lock (_lock)
        {
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
