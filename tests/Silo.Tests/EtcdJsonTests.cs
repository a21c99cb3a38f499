using System.Text;
using System.Text.Json;

namespace MoqCluster.Silo.Tests;

/// <summary>The gateway's JSON shapes, from answers captured from etcd 3.4.23 (see the infra cookbook).</summary>
public class EtcdJsonTests
{
    private const string Header = "{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revision\":\"1026\",\"raft_term\":\"2\"}";

    [Fact]
    public void Range_response_reads_64_bit_strings_and_base64()
    {
        var json = "{\"header\":" + Header + ",\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"9007199254740993\",\"version\":\"1\",\"value\":\"YmFy\",\"lease\":\"7587869348539512587\"}],\"count\":\"1\"}";
        var r = EtcdClusterStore.ToRangeResult(JsonSerializer.Deserialize(json, EtcdJsonContext.Default.EtcdRangeResponse)!);
        Assert.Equal(1026, r.Revision);
        var e = Assert.Single(r.Entries);
        Assert.Equal("foo", e.Key);
        Assert.Equal("bar", Encoding.UTF8.GetString(e.Value));
        Assert.Equal(9007199254740993, e.ModRevision); // above 2^53: a double would have lost it
        Assert.Equal(7587869348539512587, e.LeaseId);
    }

    [Fact]
    public void Empty_range_has_no_kvs_and_no_count()
    {
        var r = EtcdClusterStore.ToRangeResult(JsonSerializer.Deserialize("{\"header\":" + Header + "}", EtcdJsonContext.Default.EtcdRangeResponse)!);
        Assert.Empty(r.Entries);
        Assert.Equal(1026, r.Revision);
    }

    [Fact]
    public void Header_cluster_id_above_long_range_parses()
    {
        var r = JsonSerializer.Deserialize("{\"header\":" + Header + "}", EtcdJsonContext.Default.EtcdPutResponse)!;
        Assert.Equal(14841639068965178418UL, r.Header!.ClusterId);
    }

    [Fact]
    public void Won_txn_has_succeeded_true()
    {
        var json = "{\"header\":" + Header + ",\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"1026\"}}}]}";
        var t = EtcdClusterStore.ToTxnResult(JsonSerializer.Deserialize(json, EtcdJsonContext.Default.EtcdTxnResponse)!);
        Assert.True(t.Succeeded);
        Assert.Equal(1026, t.Revision);
        Assert.Null(t.Current);
    }

    [Fact]
    public void Lost_txn_has_no_succeeded_field_and_reports_the_holder()
    {
        var json = "{\"header\":" + Header + ",\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"1026\"},\"kvs\":[{\"key\":\"L2xvY2svbGVhZGVy\",\"create_revision\":\"1020\",\"mod_revision\":\"1021\",\"version\":\"2\",\"value\":\"bm9kZTE=\"}],\"count\":\"1\"}}]}";
        var t = EtcdClusterStore.ToTxnResult(JsonSerializer.Deserialize(json, EtcdJsonContext.Default.EtcdTxnResponse)!);
        Assert.False(t.Succeeded);
        Assert.Equal("/lock/leader", t.Current!.Key);
        Assert.Equal(1021, t.Current.ModRevision);
        Assert.Equal("node1", Encoding.UTF8.GetString(t.Current.Value));
    }

    [Fact]
    public void Lost_txn_on_absent_key_has_no_current()
    {
        var json = "{\"header\":" + Header + ",\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"1026\"}}}]}";
        var t = EtcdClusterStore.ToTxnResult(JsonSerializer.Deserialize(json, EtcdJsonContext.Default.EtcdTxnResponse)!);
        Assert.False(t.Succeeded);
        Assert.Null(t.Current);
    }

    [Fact]
    public void Lease_grant_and_keepalive_and_lost_lease()
    {
        var grant = JsonSerializer.Deserialize("{\"header\":" + Header + ",\"ID\":\"2228896987533400599\",\"TTL\":\"5\"}", EtcdJsonContext.Default.EtcdLeaseResponse)!;
        Assert.Equal(2228896987533400599, grant.Id);
        Assert.Equal(5, grant.Ttl);

        var alive = JsonSerializer.Deserialize("{\"result\":{\"header\":" + Header + ",\"ID\":\"2228896987533400599\",\"TTL\":\"5\"}}\n", EtcdJsonContext.Default.EtcdKeepAliveLine)!;
        Assert.Equal(5, alive.Result!.Ttl);

        // An expired lease: 200, the ID echoed, no TTL.
        var lost = JsonSerializer.Deserialize("{\"result\":{\"header\":" + Header + ",\"ID\":\"12345\"}}", EtcdJsonContext.Default.EtcdKeepAliveLine)!;
        Assert.Equal(0, lost.Result!.Ttl);
    }

    [Fact]
    public void Requests_write_exact_names_and_64_bit_numbers_as_strings()
    {
        var lease = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new EtcdLeaseRequest { Id = 7587869348539512587 }, EtcdJsonContext.Default.EtcdLeaseRequest));
        Assert.Equal("{\"ID\":\"7587869348539512587\"}", lease); // TTL 0 omitted; "ID" not "id"

        var grant = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new EtcdLeaseRequest { Ttl = 3 }, EtcdJsonContext.Default.EtcdLeaseRequest));
        Assert.Equal("{\"TTL\":\"3\"}", grant);

        var put = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new EtcdPutRequest { Key = "foo"u8.ToArray(), Value = "bar"u8.ToArray(), Lease = 42 }, EtcdJsonContext.Default.EtcdPutRequest));
        Assert.Equal("{\"key\":\"Zm9v\",\"value\":\"YmFy\",\"lease\":\"42\"}", put);

        var watch = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(
            new EtcdWatchRequest { CreateRequest = new EtcdWatchCreateRequest { Key = "/w/"u8.ToArray(), RangeEnd = "/w0"u8.ToArray(), StartRevision = 1021, ProgressNotify = true } },
            EtcdJsonContext.Default.EtcdWatchRequest));
        Assert.Equal("{\"create_request\":{\"key\":\"L3cv\",\"range_end\":\"L3cw\",\"start_revision\":\"1021\",\"progress_notify\":true}}", watch);
    }

    [Fact]
    public void Watch_lines_created_put_delete_progress_and_compaction()
    {
        var created = EtcdClusterStore.ParseWatchLine("{\"result\":{\"header\":" + Header + ",\"created\":true}}");
        Assert.True(created.Created);
        Assert.Equal(0, created.WatchId); // watch 0: omitted

        var put = EtcdClusterStore.ParseWatchLine("{\"result\":{\"header\":" + Header + ",\"events\":[{\"kv\":{\"key\":\"L3cvYQ==\",\"create_revision\":\"1021\",\"mod_revision\":\"1021\",\"version\":\"1\",\"value\":\"MQ==\"}},{\"kv\":{\"key\":\"L3cvYg==\",\"mod_revision\":\"1021\",\"value\":\"Mg==\"}}]}}");
        Assert.Equal(2, put.Events!.Count); // a txn = one message, several events
        Assert.False(put.Events[0].IsDelete); // PUT carries no "type"

        var delete = EtcdClusterStore.ParseWatchLine("{\"result\":{\"header\":" + Header + ",\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3cvYQ==\",\"mod_revision\":\"1023\"},\"prev_kv\":{\"key\":\"L3cvYQ==\",\"value\":\"MQ==\"}}]}}");
        Assert.True(delete.Events![0].IsDelete);
        Assert.Null(delete.Events[0].Kv!.Value);

        var progress = EtcdClusterStore.ParseWatchLine("{\"result\":{\"header\":" + Header + "}}");
        Assert.Null(progress.Events);
        Assert.False(progress.Created);

        var compacted = EtcdClusterStore.ParseWatchLine("{\"result\":{\"header\":" + Header + ",\"canceled\":true,\"compact_revision\":\"1023\"}}");
        Assert.True(compacted.Canceled);
        Assert.Equal(1023, compacted.CompactRevision);

        Assert.Throws<IOException>(() => EtcdClusterStore.ParseWatchLine("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\"}}"));
    }

    [Fact]
    public void Error_body_gives_grpc_code()
    {
        var e = EtcdGateway.ParseError("{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: requested lease not found\",\"code\":5}"u8.ToArray(), 404);
        Assert.Equal(5, e.GrpcCode);
        Assert.Equal(404, e.HttpStatus);
        Assert.Equal(0, EtcdGateway.ParseError("<html>bad gateway</html>"u8.ToArray(), 502).GrpcCode);
    }

    [Theory]
    [InlineData("/svc/", "/svc0")]
    [InlineData("a", "b")]
    public void Prefix_end_increments_the_last_byte(string prefix, string end) =>
        Assert.Equal(end, Encoding.UTF8.GetString(EtcdClusterStore.PrefixEnd(Encoding.UTF8.GetBytes(prefix))));

    [Fact]
    public void Prefix_end_carries_over_0xff()
    {
        Assert.Equal(new byte[] { 0x62 }, EtcdClusterStore.PrefixEnd([0x61, 0xFF]));
        Assert.Equal(new byte[] { 0 }, EtcdClusterStore.PrefixEnd([0xFF, 0xFF]));
    }
}
