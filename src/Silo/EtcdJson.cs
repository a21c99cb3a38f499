using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoqCluster.Silo;

// The wire shapes of etcd 3.4's JSON gateway (grpc-gateway over the v3 protos). Conventions that
// bite (see the infra cookbook): 64-bit numbers travel as JSON strings; fields at their default
// value are omitted (a lost Txn has no "succeeded", an empty range no "kvs", a PUT event no
// "type"); keys and values are base64 (System.Text.Json maps byte[] to base64 natively); request
// names are the proto names, and ID/TTL must be spelled exactly so — unknown names are silently
// ignored, so every member carries an explicit [JsonPropertyName] and no naming policy applies.

/// <summary>Response header common to every etcd answer.</summary>
internal sealed class EtcdHeader
{
    [JsonPropertyName("cluster_id")]
    public ulong ClusterId { get; set; }

    [JsonPropertyName("member_id")]
    public ulong MemberId { get; set; }

    [JsonPropertyName("revision")]
    public long Revision { get; set; }

    [JsonPropertyName("raft_term")]
    public ulong RaftTerm { get; set; }
}

/// <summary>mvccpb.KeyValue.</summary>
internal sealed class EtcdKeyValue
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("create_revision")]
    public long CreateRevision { get; set; }

    [JsonPropertyName("mod_revision")]
    public long ModRevision { get; set; }

    [JsonPropertyName("version")]
    public long Version { get; set; }

    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }

    [JsonPropertyName("lease")]
    public long Lease { get; set; }
}

internal sealed class EtcdRangeRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }

    [JsonPropertyName("limit")]
    public long Limit { get; set; }
}

internal sealed class EtcdRangeResponse
{
    [JsonPropertyName("header")]
    public EtcdHeader? Header { get; set; }

    [JsonPropertyName("kvs")]
    public List<EtcdKeyValue>? Kvs { get; set; }

    [JsonPropertyName("more")]
    public bool More { get; set; }

    [JsonPropertyName("count")]
    public long Count { get; set; }
}

internal sealed class EtcdPutRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }

    [JsonPropertyName("lease")]
    public long Lease { get; set; }
}

internal sealed class EtcdPutResponse
{
    [JsonPropertyName("header")]
    public EtcdHeader? Header { get; set; }
}

internal sealed class EtcdDeleteRangeRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }
}

internal sealed class EtcdDeleteRangeResponse
{
    [JsonPropertyName("header")]
    public EtcdHeader? Header { get; set; }

    [JsonPropertyName("deleted")]
    public long Deleted { get; set; }
}

/// <summary>etcdserverpb.Compare; target and result are sent as their enum names.</summary>
internal sealed class EtcdCompare
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("target")]
    public string? Target { get; set; }

    [JsonPropertyName("result")]
    public string? Result { get; set; }

    [JsonPropertyName("mod_revision")]
    public long ModRevision { get; set; }

    [JsonPropertyName("create_revision")]
    public long CreateRevision { get; set; }
}

internal sealed class EtcdRequestOp
{
    [JsonPropertyName("request_range")]
    public EtcdRangeRequest? RequestRange { get; set; }

    [JsonPropertyName("request_put")]
    public EtcdPutRequest? RequestPut { get; set; }

    [JsonPropertyName("request_delete_range")]
    public EtcdDeleteRangeRequest? RequestDeleteRange { get; set; }
}

internal sealed class EtcdResponseOp
{
    [JsonPropertyName("response_range")]
    public EtcdRangeResponse? ResponseRange { get; set; }

    [JsonPropertyName("response_put")]
    public EtcdPutResponse? ResponsePut { get; set; }

    [JsonPropertyName("response_delete_range")]
    public EtcdDeleteRangeResponse? ResponseDeleteRange { get; set; }
}

internal sealed class EtcdTxnRequest
{
    [JsonPropertyName("compare")]
    public List<EtcdCompare>? Compare { get; set; }

    [JsonPropertyName("success")]
    public List<EtcdRequestOp>? Success { get; set; }

    [JsonPropertyName("failure")]
    public List<EtcdRequestOp>? Failure { get; set; }
}

internal sealed class EtcdTxnResponse
{
    [JsonPropertyName("header")]
    public EtcdHeader? Header { get; set; }

    /// <summary>Absent (false) when the comparison failed.</summary>
    [JsonPropertyName("succeeded")]
    public bool Succeeded { get; set; }

    [JsonPropertyName("responses")]
    public List<EtcdResponseOp>? Responses { get; set; }
}

/// <summary>Grant, keepalive, revoke and time-to-live requests all carry these two fields.</summary>
internal sealed class EtcdLeaseRequest
{
    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }

    [JsonPropertyName("ID")]
    public long Id { get; set; }
}

internal sealed class EtcdLeaseResponse
{
    [JsonPropertyName("header")]
    public EtcdHeader? Header { get; set; }

    [JsonPropertyName("ID")]
    public long Id { get; set; }

    /// <summary>0 (absent) on a keepalive for an unknown or expired lease.</summary>
    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }

    [JsonPropertyName("error")]
    public string? Error { get; set; }
}

/// <summary>The keepalive answer is one line of a server stream, wrapped in "result" (or "error").</summary>
internal sealed class EtcdKeepAliveLine
{
    [JsonPropertyName("result")]
    public EtcdLeaseResponse? Result { get; set; }

    [JsonPropertyName("error")]
    public JsonElement? Error { get; set; }
}

internal sealed class EtcdWatchCreateRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }

    [JsonPropertyName("start_revision")]
    public long StartRevision { get; set; }

    [JsonPropertyName("progress_notify")]
    public bool ProgressNotify { get; set; }
}

internal sealed class EtcdWatchRequest
{
    [JsonPropertyName("create_request")]
    public EtcdWatchCreateRequest? CreateRequest { get; set; }
}

internal sealed class EtcdEvent
{
    /// <summary>"DELETE" (or 1) for a delete; absent for a PUT, the enum's default.</summary>
    [JsonPropertyName("type")]
    public JsonElement? Type { get; set; }

    [JsonPropertyName("kv")]
    public EtcdKeyValue? Kv { get; set; }

    [JsonIgnore]
    public bool IsDelete => Type is { } t
        && ((t.ValueKind == JsonValueKind.String && t.GetString() is "DELETE" or "1")
            || (t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out var n) && n == 1));
}

internal sealed class EtcdWatchResponse
{
    [JsonPropertyName("header")]
    public EtcdHeader? Header { get; set; }

    [JsonPropertyName("watch_id")]
    public long WatchId { get; set; }

    [JsonPropertyName("created")]
    public bool Created { get; set; }

    [JsonPropertyName("canceled")]
    public bool Canceled { get; set; }

    [JsonPropertyName("compact_revision")]
    public long CompactRevision { get; set; }

    [JsonPropertyName("cancel_reason")]
    public string? CancelReason { get; set; }

    [JsonPropertyName("events")]
    public List<EtcdEvent>? Events { get; set; }
}

/// <summary>One line of the streaming watch response.</summary>
internal sealed class EtcdWatchLine
{
    [JsonPropertyName("result")]
    public EtcdWatchResponse? Result { get; set; }

    [JsonPropertyName("error")]
    public JsonElement? Error { get; set; }
}

/// <summary>The body of a non-2xx answer.</summary>
internal sealed class EtcdErrorBody
{
    [JsonPropertyName("error")]
    public string? Error { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("code")]
    public int Code { get; set; }
}

/// <summary>
/// Source-generated serializers for the gateway: numbers are read from strings or numbers and
/// written as strings (lease ids are full 63-bit values), defaults are left out of requests.
/// </summary>
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(EtcdRangeRequest))]
[JsonSerializable(typeof(EtcdRangeResponse))]
[JsonSerializable(typeof(EtcdPutRequest))]
[JsonSerializable(typeof(EtcdPutResponse))]
[JsonSerializable(typeof(EtcdDeleteRangeRequest))]
[JsonSerializable(typeof(EtcdDeleteRangeResponse))]
[JsonSerializable(typeof(EtcdTxnRequest))]
[JsonSerializable(typeof(EtcdTxnResponse))]
[JsonSerializable(typeof(EtcdLeaseRequest))]
[JsonSerializable(typeof(EtcdLeaseResponse))]
[JsonSerializable(typeof(EtcdKeepAliveLine))]
[JsonSerializable(typeof(EtcdWatchRequest))]
[JsonSerializable(typeof(EtcdWatchLine))]
[JsonSerializable(typeof(EtcdErrorBody))]
internal sealed partial class EtcdJsonContext : JsonSerializerContext
{
}
