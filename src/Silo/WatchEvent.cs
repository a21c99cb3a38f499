namespace MoqCluster.Silo;

/// <summary>One change seen by a watch.</summary>
/// <param name="Kind">Put or delete.</param>
/// <param name="Key">The key that changed.</param>
/// <param name="Value">The new value for a put; empty for a delete.</param>
/// <param name="ModRevision">The revision of the change.</param>
public sealed record WatchEvent(WatchEventKind Kind, string Key, byte[] Value, long ModRevision);
