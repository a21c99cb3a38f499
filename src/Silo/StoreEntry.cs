namespace MoqCluster.Silo;

/// <summary>One key as the store holds it.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value bytes.</param>
/// <param name="CreateRevision">The revision that created the key (since its last deletion).</param>
/// <param name="ModRevision">The revision of its last write.</param>
/// <param name="Version">How many times it was written since its creation (1 after the first put).</param>
/// <param name="LeaseId">The lease it is attached to; 0 for none.</param>
public sealed record StoreEntry(string Key, byte[] Value, long CreateRevision, long ModRevision, long Version, long LeaseId);
