namespace MoqCluster.Silo;

/// <summary>What happened to a watched key.</summary>
public enum WatchEventKind
{
    /// <summary>The key was created or overwritten.</summary>
    Put,

    /// <summary>The key was deleted (explicitly or by its lease expiring).</summary>
    Delete,
}
