namespace MoqCluster.Edge.Auth;

/// <summary>
/// Runs an action when a grant's credentials expire (moq-relay closes the session with code 6 then).
/// Dispose to cancel. Deadlines beyond a timer's range are reached in steps.
/// </summary>
public sealed class GrantExpiry : IDisposable
{
    /// <summary>Longest single timer period <see cref="TimeProvider.CreateTimer"/> accepts.</summary>
    private static readonly TimeSpan MaxStep = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly DateTimeOffset _expiresAt;
    private readonly Action _onExpired;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private ITimer? _timer;
    private bool _disposed;

    private GrantExpiry(DateTimeOffset expiresAt, Action onExpired, TimeProvider time)
    {
        _expiresAt = expiresAt;
        _onExpired = onExpired;
        _time = time;
    }

    /// <summary>
    /// Calls <paramref name="onExpired"/> once <paramref name="grant"/>'s <see cref="AccessGrant.ExpiresAt"/> passes
    /// (at once if it already has). Returns null when the grant never expires.
    /// </summary>
    public static GrantExpiry? Watch(AccessGrant grant, Action onExpired, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentNullException.ThrowIfNull(onExpired);
        if (grant.ExpiresAt is not { } expiresAt)
            return null;
        var expiry = new GrantExpiry(expiresAt, onExpired, time ?? TimeProvider.System);
        expiry.Schedule();
        return expiry;
    }

    private void Schedule()
    {
        var remaining = _expiresAt - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            Fire();
            return;
        }
        lock (_gate)
        {
            if (_disposed)
                return;
            _timer?.Dispose();
            _timer = _time.CreateTimer(_ => Schedule(), null, remaining < MaxStep ? remaining : MaxStep, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fire()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _timer?.Dispose();
        }
        _onExpired();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }
}
