namespace MoqCluster.Silo.Tests;

/// <summary>Reads a feed in the background and lets a test wait for what it has seen.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class FeedRecorder<T> : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<T> _items = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Start reading <paramref name="feed"/>.</summary>
    public FeedRecorder(Func<CancellationToken, IAsyncEnumerable<T>> feed)
    {
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in feed(_stop.Token))
                {
                    TaskCompletionSource changed;
                    lock (_gate)
                    {
                        _items.Add(item);
                        changed = _changed;
                        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
                    }

                    changed.TrySetResult();
                }
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
        });
    }

    /// <summary>Everything seen so far.</summary>
    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_gate)
            {
                return [.. _items];
            }
        }
    }

    /// <summary>Wait until an item matching <paramref name="match"/> arrives (items already seen count); a hang guard, not a speed assertion.</summary>
    public async Task<T> WaitForAsync(Func<T, bool> match, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var next = 0;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                for (; next < _items.Count; next++)
                {
                    if (match(_items[next]))
                    {
                        return _items[next];
                    }
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no {what} within {timeout}; saw:\n  {string.Join("\n  ", Items)}");
            }
        }
    }

    /// <summary>Stop reading.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reader;
        _stop.Dispose();
    }
}
