using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MoqCluster.Silo;

/// <summary>
/// <see cref="IClusterStore"/> on etcd 3.4, spoken through its JSON gateway (<c>/v3/…</c>) with
/// <see cref="HttpClient"/>, failing over between the configured member endpoints.
/// </summary>
public sealed class EtcdClusterStore : IClusterStore
{
    private readonly EtcdGateway _gateway;
    private readonly ILogger _log;

    /// <summary>Create a store over the given etcd client URLs.</summary>
    /// <param name="endpoints">Client URLs of the members (e.g. <c>http://127.0.0.1:2379</c>); order = preference.</param>
    /// <param name="requestTimeout">Deadline of one attempt on one endpoint (default 2 s).</param>
    /// <param name="logger">Diagnostics.</param>
    public EtcdClusterStore(IReadOnlyList<Uri> endpoints, TimeSpan? requestTimeout = null, ILogger? logger = null)
    {
        _log = logger ?? NullLogger.Instance;
        _gateway = new EtcdGateway(endpoints, requestTimeout ?? TimeSpan.FromSeconds(2), _log);
    }

    /// <summary>The member endpoints, in preference order.</summary>
    public IReadOnlyList<Uri> Endpoints => _gateway.Endpoints;

    /// <summary>The endpoint that answered last (calls start there).</summary>
    public Uri CurrentEndpoint => _gateway.Endpoints[_gateway.Preferred];

    /// <inheritdoc />
    public async Task<LeaseGrant> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var request = new EtcdLeaseRequest { Ttl = Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds)) };
        var response = await _gateway.CallAsync("/v3/lease/grant", request, EtcdJsonContext.Default.EtcdLeaseRequest, EtcdJsonContext.Default.EtcdLeaseResponse, cancellationToken).ConfigureAwait(false);
        if (response.Id == 0)
        {
            throw new EtcdRequestException($"lease grant refused: {response.Error ?? "no ID in the answer"}", 0, 200);
        }

        return new LeaseGrant(response.Id, TimeSpan.FromSeconds(response.Ttl));
    }

    /// <inheritdoc />
    public async Task<bool> KeepAliveAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        // keepalive is a bidi stream behind the gateway; one POST carries one renewal and one answer line.
        var request = new EtcdLeaseRequest { Id = leaseId };
        var line = await _gateway.CallAsync("/v3/lease/keepalive", request, EtcdJsonContext.Default.EtcdLeaseRequest, EtcdJsonContext.Default.EtcdKeepAliveLine, cancellationToken).ConfigureAwait(false);
        if (line.Error is { } error)
        {
            throw new ClusterStoreUnavailableException($"lease keepalive failed: {error.GetRawText()}");
        }

        // An unknown or expired lease answers 200 with no ID and no TTL.
        return line.Result is { Ttl: > 0 };
    }

    /// <inheritdoc />
    public async Task RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        var request = new EtcdLeaseRequest { Id = leaseId };
        try
        {
            await _gateway.CallAsync("/v3/lease/revoke", request, EtcdJsonContext.Default.EtcdLeaseRequest, EtcdJsonContext.Default.EtcdLeaseResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdRequestException e) when (e.GrpcCode == 5)
        {
            // Already expired: its keys are gone, which is what revoking wanted.
        }
    }

    /// <inheritdoc />
    public async Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, long leaseId = 0, CancellationToken cancellationToken = default)
    {
        var request = new EtcdPutRequest { Key = Encoding.UTF8.GetBytes(key), Value = value.ToArray(), Lease = leaseId };
        try
        {
            var response = await _gateway.CallAsync("/v3/kv/put", request, EtcdJsonContext.Default.EtcdPutRequest, EtcdJsonContext.Default.EtcdPutResponse, cancellationToken).ConfigureAwait(false);
            return response.Header?.Revision ?? 0;
        }
        catch (EtcdRequestException e) when (leaseId != 0 && IsLeaseNotFound(e))
        {
            throw new LeaseNotFoundException(leaseId);
        }
    }

    /// <inheritdoc />
    public async Task<TxnResult> CompareAndPutAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, long leaseId = 0, CancellationToken cancellationToken = default)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var compare = expectedModRevision == 0
            ? new EtcdCompare { Key = keyBytes, Target = "CREATE", Result = "EQUAL", CreateRevision = 0 }
            : new EtcdCompare { Key = keyBytes, Target = "MOD", Result = "EQUAL", ModRevision = expectedModRevision };
        var request = new EtcdTxnRequest
        {
            Compare = [compare],
            Success = [new EtcdRequestOp { RequestPut = new EtcdPutRequest { Key = keyBytes, Value = value.ToArray(), Lease = leaseId } }],
            Failure = [new EtcdRequestOp { RequestRange = new EtcdRangeRequest { Key = keyBytes } }],
        };
        EtcdTxnResponse response;
        try
        {
            response = await _gateway.CallAsync("/v3/kv/txn", request, EtcdJsonContext.Default.EtcdTxnRequest, EtcdJsonContext.Default.EtcdTxnResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdRequestException e) when (leaseId != 0 && IsLeaseNotFound(e))
        {
            throw new LeaseNotFoundException(leaseId);
        }

        return ToTxnResult(response);
    }

    /// <inheritdoc />
    public async Task<StoreEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var request = new EtcdRangeRequest { Key = Encoding.UTF8.GetBytes(key) };
        var response = await _gateway.CallAsync("/v3/kv/range", request, EtcdJsonContext.Default.EtcdRangeRequest, EtcdJsonContext.Default.EtcdRangeResponse, cancellationToken).ConfigureAwait(false);
        return response.Kvs is [var kv, ..] ? ToEntry(kv) : null;
    }

    /// <inheritdoc />
    public async Task<RangeResult> GetPrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var key = Encoding.UTF8.GetBytes(prefix);
        var request = new EtcdRangeRequest { Key = key, RangeEnd = PrefixEnd(key) };
        var response = await _gateway.CallAsync("/v3/kv/range", request, EtcdJsonContext.Default.EtcdRangeRequest, EtcdJsonContext.Default.EtcdRangeResponse, cancellationToken).ConfigureAwait(false);
        return ToRangeResult(response);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var request = new EtcdDeleteRangeRequest { Key = Encoding.UTF8.GetBytes(key) };
        var response = await _gateway.CallAsync("/v3/kv/deleterange", request, EtcdJsonContext.Default.EtcdDeleteRangeRequest, EtcdJsonContext.Default.EtcdDeleteRangeResponse, cancellationToken).ConfigureAwait(false);
        return response.Deleted > 0;
    }

    /// <inheritdoc />
    /// <remarks>
    /// One streaming <c>POST /v3/watch</c> per watch. When the stream breaks (member killed, or
    /// closed), the watch moves to the next endpoint and resumes at the revision after the last
    /// event delivered, so callers see no gap and no duplicate. Two failed rounds over all
    /// endpoints in a row end the sequence with <see cref="ClusterStoreUnavailableException"/>.
    /// </remarks>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var key = Encoding.UTF8.GetBytes(prefix);
        var rangeEnd = PrefixEnd(key);
        var next = fromRevision;
        ulong highestTerm = 0;
        var failures = 0;
        var endpoint = _gateway.Preferred;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var body = JsonSerializer.SerializeToUtf8Bytes(
                new EtcdWatchRequest { CreateRequest = new EtcdWatchCreateRequest { Key = key, RangeEnd = rangeEnd, StartRevision = next, ProgressNotify = true } },
                EtcdJsonContext.Default.EtcdWatchRequest);
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Exception? failure = null;
            HttpResponseMessage? response = null;
            StreamReader? reader = null;
            try
            {
                response = await _gateway.OpenStreamAsync(endpoint, "/v3/watch", body, connection).ConfigureAwait(false);
                reader = new StreamReader(await response.Content.ReadAsStreamAsync(connection.Token).ConfigureAwait(false), Encoding.UTF8);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or EtcdRequestException
                                          || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                failure = e;
                response?.Dispose();
            }

            if (reader is not null)
            {
                try
                {
                    while (true)
                    {
                        string? line;
                        try
                        {
                            line = await reader.ReadLineAsync(connection.Token).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is HttpRequestException or IOException)
                        {
                            failure = e; // e.g. "The response ended prematurely" when the member was SIGKILLed
                            break;
                        }

                        if (line is null)
                        {
                            failure = new IOException("the watch stream ended"); // member stopped gracefully
                            break;
                        }

                        if (line.Length == 0)
                        {
                            continue;
                        }

                        EtcdWatchResponse result;
                        try
                        {
                            result = ParseWatchLine(line);
                        }
                        catch (Exception e) when (e is IOException or JsonException)
                        {
                            failure = e; // an error line (e.g. no leader) or garbage: reconnect elsewhere
                            break;
                        }

                        var header = result.Header;
                        if (header is not null)
                        {
                            // A member restarted on an empty data dir keeps its cluster id but starts
                            // over at revision 1 and term 1: our resume point means nothing there.
                            if (header.RaftTerm < highestTerm || (result.Created && header.Revision < next - 1))
                            {
                                throw new WatchHistoryLostException(
                                    $"etcd at {_gateway.Endpoints[endpoint]} is at revision {header.Revision} / term {header.RaftTerm}, behind the watch ({next - 1} / {highestTerm}): its data was lost");
                            }

                            highestTerm = Math.Max(highestTerm, header.RaftTerm);
                        }

                        if (result.Canceled)
                        {
                            if (result.CompactRevision > 0)
                            {
                                throw new WatchHistoryLostException($"revision {next} is compacted (compact revision {result.CompactRevision})", result.CompactRevision);
                            }

                            failure = new IOException($"etcd canceled the watch: {result.CancelReason}");
                            break;
                        }

                        if (result.Created)
                        {
                            failures = 0;
                            continue;
                        }

                        if (result.Events is not { Count: > 0 } events)
                        {
                            // Progress notification: everything up to header.revision was delivered.
                            if (header is not null)
                            {
                                next = Math.Max(next, header.Revision + 1);
                            }

                            continue;
                        }

                        foreach (var e in events)
                        {
                            if (e.Kv?.Key is null)
                            {
                                continue;
                            }

                            yield return new WatchEvent(
                                e.IsDelete ? WatchEventKind.Delete : WatchEventKind.Put,
                                Encoding.UTF8.GetString(e.Kv.Key),
                                e.IsDelete ? [] : e.Kv.Value ?? [],
                                e.Kv.ModRevision);
                            next = Math.Max(next, e.Kv.ModRevision + 1);
                        }
                    }
                }
                finally
                {
                    reader.Dispose();
                    response?.Dispose();
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            failures++;
            _log.LogInformation("etcd watch on {Endpoint} for {Prefix} broke at revision {Next}: {Error}", _gateway.Endpoints[endpoint], prefix, next, failure?.Message);
            if (failures >= 2 * _gateway.Endpoints.Count)
            {
                throw new ClusterStoreUnavailableException($"no etcd endpoint could carry the watch on {prefix}: {failure?.Message}", failure);
            }

            endpoint = (endpoint + 1) % _gateway.Endpoints.Count;
            await Task.Delay(TimeSpan.FromMilliseconds(50 * failures), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _gateway.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The smallest key after every key starting with <paramref name="prefix"/> (etcd's range_end for a prefix).</summary>
    /// <param name="prefix">The prefix bytes.</param>
    /// <returns>The range end; <c>"\0"</c> (meaning "no end") when the prefix is all 0xFF bytes.</returns>
    internal static byte[] PrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xFF)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }

        return [0];
    }

    internal static EtcdWatchResponse ParseWatchLine(string line)
    {
        var parsed = JsonSerializer.Deserialize(line, EtcdJsonContext.Default.EtcdWatchLine)
            ?? throw new IOException("empty watch line");
        if (parsed.Error is { } error)
        {
            throw new IOException($"etcd watch error: {error.GetRawText()}");
        }

        return parsed.Result ?? throw new IOException($"watch line without result: {line}");
    }

    internal static StoreEntry ToEntry(EtcdKeyValue kv) =>
        new(Encoding.UTF8.GetString(kv.Key ?? []), kv.Value ?? [], kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);

    internal static RangeResult ToRangeResult(EtcdRangeResponse response) =>
        new((response.Kvs ?? []).Select(ToEntry).ToList(), response.Header?.Revision ?? 0);

    internal static TxnResult ToTxnResult(EtcdTxnResponse response)
    {
        var revision = response.Header?.Revision ?? 0;
        if (response.Succeeded)
        {
            return new TxnResult(true, revision, null);
        }

        // The failure branch was a range of the key: it tells who holds it now.
        var current = response.Responses is [{ ResponseRange.Kvs: [var kv, ..] }, ..] ? ToEntry(kv) : null;
        return new TxnResult(false, revision, current);
    }

    private static bool IsLeaseNotFound(EtcdRequestException e) =>
        e.GrpcCode == 5 || e.Message.Contains("lease not found", StringComparison.OrdinalIgnoreCase);
}
