namespace MoqCluster.Edge.Auth;

/// <summary>
/// Counts refused connections (total and per <see cref="AuthFailureKind"/>) and raises <see cref="Recorded"/> for
/// each, so metrics can be wired without this code depending on a metrics library.
/// </summary>
public sealed class AuthFailures
{
    private readonly long[] _counts = new long[Enum.GetValues<AuthFailureKind>().Length];
    private long _total;

    /// <summary>Raised (synchronously, on the connecting request's thread) for every refused connection.</summary>
    public event Action<AuthFailure>? Recorded;

    /// <summary>All refusals so far.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Refusals of one kind so far.</summary>
    public long Count(AuthFailureKind kind) => Interlocked.Read(ref _counts[(int)kind]);

    /// <summary>Counts <paramref name="failure"/> and notifies subscribers.</summary>
    public void Record(AuthFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        Interlocked.Increment(ref _total);
        Interlocked.Increment(ref _counts[(int)failure.Kind]);
        Recorded?.Invoke(failure);
    }
}
