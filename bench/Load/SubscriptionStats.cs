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
    private LatencyHistogram? _latency;
    private readonly HashSet<long> _groups = [];
    private long _highest = -1;

    /// <summary>Creates the stats of one subscription to the broadcast whose readers report to <paramref name="progress"/>.</summary>
    public SubscriptionStats(MeasurementWindow window, BroadcastProgress progress)
    {
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

    /// <summary>Groups whose sequence is inside the span seen but which never arrived (the moq-bench rule).</summary>
    public long GroupsDropped
    {
        get
        {
            lock (_lock)
            {
                if (_groups.Count == 0)
                    return 0;
                return _groups.Max() - _groups.Min() + 1 - _groups.Count;
            }
        }
    }

    /// <summary>Frames inside the sequence span seen but never received.</summary>
    public long FramesLost
    {
        get
        {
            lock (_lock)
                return FirstSequence < 0 ? 0 : Math.Max(0, LastSequence - FirstSequence + 1 - Frames);
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
            if (!_window.IsOpen)
                return;
            Frames++;
            Bytes += payload.Length;
            if (FirstSequence < 0 || sequence < FirstSequence)
                FirstSequence = sequence;
            if (sequence > LastSequence)
                LastSequence = sequence;
            _groups.Add(group);
            (_latency ??= new()).Record((long)Stopwatch.GetElapsedTime(sent, now).TotalNanoseconds);
        }
    }
}
