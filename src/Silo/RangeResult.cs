namespace MoqCluster.Silo;

/// <summary>The answer to a prefix read.</summary>
/// <param name="Entries">The entries, in key order.</param>
/// <param name="Revision">The store revision the read saw; watch from <c>Revision + 1</c> to miss nothing.</param>
public sealed record RangeResult(IReadOnlyList<StoreEntry> Entries, long Revision);
