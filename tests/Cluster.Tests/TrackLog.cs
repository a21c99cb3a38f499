using System.Diagnostics;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Cluster.Tests;

/// <summary>
/// Reads one subscription in the background and records every complete group (sequence, arrival time, latency
/// of its first frame) and any frame error, until the track ends or the log is disposed.
/// </summary>
internal sealed class TrackLog : IDisposable
{
    private readonly object _lock = new();
    private readonly List<(ulong Sequence, long ArrivedAt, double LatencyMs)> _groups = [];
    private readonly List<string> _errors = [];
    private readonly CancellationTokenSource _cts = new();
    private readonly TrackConsumer _track;
    private readonly int _framesPerGroup;

    public TrackLog(TrackConsumer track, int framesPerGroup)
    {
        _track = track;
        _framesPerGroup = framesPerGroup;
        Reading = ReadAsync();
    }

    /// <summary>Completes when the track ended (normally or not); its result says how.</summary>
    public Task<string> Reading { get; }

    public IReadOnlyList<(ulong Sequence, long ArrivedAt, double LatencyMs)> Groups
    {
        get
        {
            lock (_lock)
                return [.. _groups];
        }
    }

    /// <summary>Groups reset by their source before completion (expected around a failover).</summary>
    public List<string> Incomplete { get; } = [];

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_lock)
                return [.. _errors];
        }
    }

    /// <summary>Waits for a complete group with a sequence at least <paramref name="sequence"/>.</summary>
    public async Task<(ulong Sequence, long ArrivedAt, double LatencyMs)> WaitForAsync(ulong sequence, TimeSpan timeout, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var found = Groups.FirstOrDefault(g => g.Sequence >= sequence);
            if (found.ArrivedAt != 0)
                return found;
            if (Reading.IsCompleted)
                throw new InvalidOperationException($"track ended ({Reading.Result}) before group {sequence}; got [{Describe()}]\n{describe?.Invoke()}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"group {sequence} not received within {timeout}; got [{Describe()}]\n{describe?.Invoke()}");
            await Task.Delay(20);
        }
    }

    public string Describe()
    {
        var groups = Groups;
        return groups.Count == 0 ? "nothing" : $"{groups.Count} groups, {groups[0].Sequence}..{groups[^1].Sequence}; errors: {string.Join("; ", Errors)}";
    }

    private async Task<string> ReadAsync()
    {
        await Task.Yield();
        try
        {
            while (await _track.NextGroupAsync(_cts.Token) is { } group)
            {
                var frames = 0;
                double latency = 0;
                try
                {
                    while (await group.ReadFrameAsync(_cts.Token) is { } frame)
                    {
                        var (sequence, index, sentAt) = TestFrame.Read(frame.Payload.Span);
                        if (frames == 0)
                            latency = Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds;
                        if (sequence != group.Sequence || index != frames)
                            AddError($"group {group.Sequence}: frame #{frames} carries group {sequence} index {index}");
                        frames++;
                    }
                }
                catch (MoqCluster.Protocol.Coding.ProtocolException ex)
                {
                    // A group cut by its source (e.g. the publishing edge died mid-group): not an integrity error.
                    lock (_lock)
                        Incomplete.Add($"group {group.Sequence} reset after {frames} frames ({ex.Code})");
                    continue;
                }
                if (frames == _framesPerGroup)
                {
                    lock (_lock)
                        _groups.Add((group.Sequence, Stopwatch.GetTimestamp(), latency));
                }
                else
                {
                    AddError($"group {group.Sequence}: {frames} of {_framesPerGroup} frames");
                }
            }
            return "ended";
        }
        catch (OperationCanceledException)
        {
            return "disposed";
        }
        catch (Exception ex)
        {
            return $"failed: {ex.GetType().Name}: {ex.Message}";
        }
    }

    private void AddError(string error)
    {
        lock (_lock)
        {
            if (_errors.Count < 50)
                _errors.Add(error);
        }
    }

    public void Dispose()
    {
        _cts.Cancel();
        _track.Dispose();
    }
}
