namespace MoqCluster.Protocol.Session;

/// <summary>A per-session cap on concurrent requests of one kind (subscriptions, announce requests).</summary>
/// <param name="name">The limit's name for logs and metrics, e.g. <c>subscriptions</c>.</param>
/// <param name="limit">Most requests open at once.</param>
internal sealed class RequestQuota(string name, int limit)
{
    private int _open;

    /// <summary>The limit's name.</summary>
    public string Name { get; } = name;

    /// <summary>Most requests open at once.</summary>
    public int Limit { get; } = limit;

    /// <summary>Counts one more open request; false (and nothing counted) when that would exceed the limit.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _open) <= Limit)
            return true;
        Interlocked.Decrement(ref _open);
        return false;
    }

    /// <summary>Counts one request closed.</summary>
    public void Exit() => Interlocked.Decrement(ref _open);
}
