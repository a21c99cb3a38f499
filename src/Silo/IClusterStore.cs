namespace MoqCluster.Silo;

/// <summary>
/// The key-value store the cluster state lives in: revisioned keys, leases that delete their keys
/// when they expire, compare-and-put transactions and prefix watches that can resume from a
/// revision. <see cref="InMemoryClusterStore"/> serves a single node; <see cref="EtcdClusterStore"/>
/// a cluster. Both keep the same semantics so the code above them cannot tell them apart.
/// </summary>
/// <remarks>
/// Operations that cannot reach the store throw <see cref="ClusterStoreUnavailableException"/>;
/// callers treat that as "try again later" and keep working locally.
/// </remarks>
public interface IClusterStore : IAsyncDisposable
{
    /// <summary>Grant a lease; keys put with it vanish when it is not kept alive for its TTL.</summary>
    /// <param name="ttl">Requested time to live (the store may round it up to its minimum).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease id and the TTL actually granted.</returns>
    Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Renew a lease for another full TTL.</summary>
    /// <param name="leaseId">The lease to renew.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>False when the lease no longer exists (expired or revoked): its keys are gone.</returns>
    Task<bool> KeepAliveAsync(long leaseId, CancellationToken cancellationToken = default);

    /// <summary>Revoke a lease, deleting every key attached to it in one revision. Unknown leases are ignored.</summary>
    /// <param name="leaseId">The lease to revoke.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default);

    /// <summary>Write a key, optionally attached to a lease.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="leaseId">The lease to attach the key to; 0 for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The store revision of the write.</returns>
    /// <exception cref="LeaseNotFoundException">The lease has expired or was revoked.</exception>
    Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default);

    /// <summary>
    /// Write a key only if its current modification revision is <paramref name="expectedModRevision"/>
    /// (0 = only if the key does not exist), atomically.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value to write on success.</param>
    /// <param name="expectedModRevision">The modification revision the key must have; 0 for "absent".</param>
    /// <param name="leaseId">The lease to attach the key to; 0 for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether the write happened, its revision, and on failure the current entry.</returns>
    /// <exception cref="LeaseNotFoundException">The lease has expired or was revoked.</exception>
    Task<TxnResult> CompareAndPutAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, long leaseId = 0, CancellationToken cancellationToken = default);

    /// <summary>Read one key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entry, or null when absent.</returns>
    Task<StoreEntry?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Read every key starting with <paramref name="prefix"/>, in key order, with the store revision of the read.</summary>
    /// <param name="prefix">The key prefix.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entries and the revision a watch should resume after.</returns>
    Task<RangeResult> GetPrefixAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Delete one key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>True when the key existed.</returns>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Watch every key starting with <paramref name="prefix"/>, starting with the changes at
    /// <paramref name="fromRevision"/> (inclusive). The sequence ends only when cancelled or on error.
    /// </summary>
    /// <param name="prefix">The key prefix.</param>
    /// <param name="fromRevision">First revision to report (usually a range read's revision + 1).</param>
    /// <param name="cancellationToken">Ends the watch.</param>
    /// <returns>The changes in revision order, with no gap and no duplicate.</returns>
    /// <exception cref="WatchHistoryLostException">
    /// The changes since <paramref name="fromRevision"/> can no longer be replayed (compacted, or the
    /// store lost its data); the caller re-reads the prefix and watches again from the new revision.
    /// </exception>
    /// <exception cref="ClusterStoreUnavailableException">No endpoint could carry the watch.</exception>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long fromRevision, CancellationToken cancellationToken = default);
}
