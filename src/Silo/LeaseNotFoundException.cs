namespace MoqCluster.Silo;

/// <summary>A write named a lease that has expired or was revoked; grant a new one.</summary>
public sealed class LeaseNotFoundException : Exception
{
    /// <summary>Create the exception.</summary>
    /// <param name="leaseId">The lease that is gone.</param>
    public LeaseNotFoundException(long leaseId)
        : base($"lease {leaseId} not found (expired or revoked)")
    {
        LeaseId = leaseId;
    }

    /// <summary>The lease that is gone.</summary>
    public long LeaseId { get; }
}
