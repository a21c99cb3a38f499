using System.Diagnostics;
using MoqCluster.Protocol.Model;

namespace MoqCluster.Cluster.Tests;

/// <summary>Records every announcement of a feed (the initial set included) with its arrival time.</summary>
internal sealed class AnnouncementLog : IDisposable
{
    private readonly object _lock = new();
    private readonly List<(string Path, BroadcastConsumer? Broadcast, long At)> _seen = [];
    private readonly AnnouncedConsumer _feed;
    private readonly CancellationTokenSource _cts = new();

    public AnnouncementLog(AnnouncedConsumer feed)
    {
        _feed = feed;
        foreach (var a in feed.Initial)
            _seen.Add((a.Path.ToString(), a.Broadcast, Stopwatch.GetTimestamp()));
        _ = ReadAsync();
    }

    /// <summary>Waits for <paramref name="path"/> to be announced active (or ended) at or after <paramref name="since"/>; returns the event.</summary>
    public async Task<(BroadcastConsumer? Broadcast, long At)> WaitAsync(string path, bool active, TimeSpan timeout, long since = 0, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            lock (_lock)
            {
                foreach (var (p, broadcast, at) in _seen)
                {
                    if (p == path && (broadcast is not null) == active && at >= since)
                        return (broadcast, at);
                }
            }
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"'{path}' not announced {(active ? "active" : "ended")} within {timeout}; seen: {Describe()}\n{describe?.Invoke()}");
            await Task.Delay(10);
        }
    }

    /// <summary>How often <paramref name="path"/> was announced ended so far.</summary>
    public int EndedCount(string path)
    {
        lock (_lock)
            return _seen.Count(s => s.Path == path && s.Broadcast is null);
    }

    public string Describe()
    {
        lock (_lock)
            return string.Join(", ", _seen.Select(s => $"{s.Path}={(s.Broadcast is null ? "ended" : "active")}"));
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _feed.NextAsync(_cts.Token) is { } a)
            {
                lock (_lock)
                    _seen.Add((a.Path.ToString(), a.Broadcast, Stopwatch.GetTimestamp()));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _cts.Cancel();
        _feed.Dispose();
    }
}
