namespace MoqCluster.Silo;

/// <summary>
/// A watch cannot resume from the revision asked for: the history was compacted, or the store came
/// back without its data (a fresh etcd data directory restarts revisions). Re-read and re-watch.
/// </summary>
public sealed class WatchHistoryLostException : Exception
{
    /// <summary>Create the exception.</summary>
    /// <param name="message">Why the history is gone.</param>
    /// <param name="compactRevision">The store's compaction revision, when that is the reason; otherwise 0.</param>
    public WatchHistoryLostException(string message, long compactRevision = 0)
        : base(message)
    {
        CompactRevision = compactRevision;
    }

    /// <summary>The store's compaction revision when compaction is the reason; otherwise 0.</summary>
    public long CompactRevision { get; }
}
