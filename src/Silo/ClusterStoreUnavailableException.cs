namespace MoqCluster.Silo;

/// <summary>No store endpoint answered (all down, no quorum, or timed out). Retry later.</summary>
public sealed class ClusterStoreUnavailableException : Exception
{
    /// <summary>Create the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="inner">The last endpoint's failure.</param>
    public ClusterStoreUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
