namespace MoqCluster.Silo;

/// <summary>The outcome of a compare-and-put.</summary>
/// <param name="Succeeded">True when the comparison held and the value was written.</param>
/// <param name="Revision">The store revision after the transaction (the write's revision on success).</param>
/// <param name="Current">On failure, the entry that made the comparison fail (null when the key is absent).</param>
public sealed record TxnResult(bool Succeeded, long Revision, StoreEntry? Current);
