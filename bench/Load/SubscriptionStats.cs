using System.Diagnostics;

namespace MoqCluster.Bench.Load;

/// <summary>
/// What one subscription (one subscriber, one broadcast) received: frames and bytes inside the
/// measurement window, latency, and the spans of frame and group sequences used to count losses.
/// Group readers may run concurrently, so every update takes the instance lock (uncontended in practice).
/// </summary>
internal sealed class SubscriptionStats
{
    private readonly object _lock = new();
    private readonly MeasurementWindow _window;
    private readonly BroadcastProgress _progress;
    private readonly int _groupFrames;
    private LatencyHistogram? _latency;
    private LatencyHistogram? _openerLatency;
    private readonly SequenceSet _frames = new();
    private readonly SequenceSet _groups = new();
    private long _highest = -1;
    private long _aborted;
    private long _firstGroup = -1;
    private long _lastGroup = -1;

    /// <summary>
    /// Creates the stats of one subscription to the broadcast whose readers report to <paramref name="progress"/>;
    /// frame sequences that are multiples of <paramref name="groupFrames"/> open their group.
    /// </summary>
    public SubscriptionStats(MeasurementWindow window, BroadcastProgress progress, int groupFrames)
    {
        _groupFrames = groupFrames;
        _window = window;
        _progress = progress;
        progress.Join(-1);
    }

    /// <summary>Frames received inside the window.</summary>
    public long Frames { get; private set; }

    /// <summary>Payload bytes received inside the window.</summary>
    public long Bytes { get; private set; }

    /// <summary>Lowest and highest frame sequence received inside the window (-1 when none).</summary>
    public long FirstSequence { get; private set; } = -1;

    /// <inheritdoc cref="FirstSequence"/>
    public long LastSequence { get; private set; } = -1;

    /// <summary>The latency of frames received inside the window (null until the first one).</summary>
    public LatencyHistogram? Latency => _latency;

    /// <summary>
    /// The latency of the frames that open a group (null until the first one): a relay opens a stream per group and
    /// subscriber for them, so they are where a group boundary's extra cost shows.
    /// </summary>
    public LatencyHistogram? OpenerLatency => _openerLatency;

    /// <summary>Groups the relay aborted as too old (superseded beyond the latency bound) after they started arriving.</summary>
    public long GroupsAborted => Interlocked.Read(ref _aborted);

    /// <summary>Counts a group aborted as too old.</summary>
    public void OnGroupAborted() => Interlocked.Increment(ref _aborted);

    /// <summary>Frames received at any time (warm-up and drain included).</summary>
    public long AllFrames { get; private set; }

    /// <summary>
    /// Groups inside the span of groups seen in the window that never arrived, late arrivals included
    /// (the moq-bench rule; read it after draining, since newest-first delivery leaves older groups in flight).
    /// </summary>
    public long GroupsDropped
    {
        get
        {
            lock (_lock)
                return _firstGroup < 0 ? 0 : _lastGroup - _firstGroup + 1 - _groups.CountIn(_firstGroup, _lastGroup);
        }
    }

    /// <summary>Frames inside the span of frame sequences seen in the window that never arrived, late arrivals included.</summary>
    public long FramesLost
    {
        get
        {
            lock (_lock)
                return FirstSequence < 0 ? 0 : LastSequence - FirstSequence + 1 - _frames.CountIn(FirstSequence, LastSequence);
        }
    }

    /// <summary>Withdraws this subscription from its broadcast's progress (its session never connected).</summary>
    public void Abandon()
    {
        lock (_lock)
            _progress.Leave(_highest);
    }

    /// <summary>Records one received frame belonging to group <paramref name="group"/>.</summary>
    public void OnFrame(ReadOnlySpan<byte> payload, long group)
    {
        var now = Stopwatch.GetTimestamp();
        if (!FramePayload.TryRead(payload, out var sent, out var sequence))
            return;
        lock (_lock)
        {
            if (sequence > _highest)
            {
                _progress.Advance(sequence - _highest);
                _highest = sequence;
            }
            AllFrames++;
            _frames.Add(sequence);
            _groups.Add(group);
            if (!_window.IsOpen)
                return;
            Frames++;
            Bytes += payload.Length;
            if (FirstSequence < 0 || sequence < FirstSequence)
                FirstSequence = sequence;
            if (sequence > LastSequence)
                LastSequence = sequence;
            if (_firstGroup < 0 || group < _firstGroup)
                _firstGroup = group;
            if (group > _lastGroup)
                _lastGroup = group;
            var nanoseconds = (long)Stopwatch.GetElapsedTime(sent, now).TotalNanoseconds;
            (_latency ??= new()).Record(nanoseconds);
            if (sequence % _groupFrames == 0)
                (_openerLatency ??= new()).Record(nanoseconds);
        }
    }
}
