namespace MoqCluster.Bench.Load;

/// <summary>Failures during a run (connects refused, sessions closed early): a count and the first few messages.</summary>
internal sealed class RunErrors
{
    private const int MaxSamples = 5;
    private readonly List<string> _samples = [];
    private int _count;

    /// <summary>Number of failures recorded.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The first few distinct messages.</summary>
    public IReadOnlyList<string> Samples
    {
        get
        {
            lock (_samples)
                return _samples.ToList();
        }
    }

    /// <summary>Records a failure described by <paramref name="what"/>.</summary>
    public void Add(string what)
    {
        Interlocked.Increment(ref _count);
        lock (_samples)
        {
            if (_samples.Count < MaxSamples && !_samples.Contains(what))
                _samples.Add(what);
        }
    }

    /// <summary>Records an exception raised while doing <paramref name="doing"/>.</summary>
    public void Add(string doing, Exception exception) => Add($"{doing}: {exception.GetType().Name}: {exception.Message}");
}
