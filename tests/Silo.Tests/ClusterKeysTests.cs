using FsCheck;
using FsCheck.Fluent;

namespace MoqCluster.Silo.Tests;

public class ClusterKeysTests
{
    private readonly ClusterKeys _keys = new("/moqcluster/");

    [Fact]
    public void Layout()
    {
        Assert.Equal("/moqcluster/nodes/edge-1", _keys.Node("edge-1"));
        Assert.Equal("/moqcluster/broadcasts/anon%2Froom1/edge-1", _keys.Broadcast("anon/room1", "edge-1"));
        Assert.Equal("/moqcluster/epoch", _keys.EpochKey);
    }

    [Fact]
    public void A_path_prefix_never_covers_a_longer_path()
    {
        // "a" and "a/b" are different broadcasts; listing "a" must not return "a/b"'s entries.
        Assert.False(_keys.Broadcast("a/b", "n1").StartsWith(_keys.BroadcastPath("a"), StringComparison.Ordinal), "a/b under a");
        Assert.False(_keys.Broadcast("a%2Fb", "n1").StartsWith(_keys.BroadcastPath("a"), StringComparison.Ordinal), "a%2Fb under a");
        Assert.StartsWith(_keys.BroadcastPath("a"), _keys.Broadcast("a", "n1"), StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_keys_are_rejected()
    {
        Assert.False(_keys.TryParseBroadcast("/moqcluster/broadcasts/noslash", out _, out _));
        Assert.False(_keys.TryParseBroadcast("/moqcluster/broadcasts/a/b/c", out _, out _));
        Assert.False(_keys.TryParseBroadcast("/moqcluster/broadcasts/a%zz/n", out _, out _));
        Assert.False(_keys.TryParseBroadcast("/other/broadcasts/a/n", out _, out _));
        Assert.False(_keys.TryParseNode("/moqcluster/nodes/", out _));
    }

    [Fact]
    public void Escaped_keys_round_trip_for_any_path_and_node() =>
        Prop.ForAll<NonNull<string>, NonEmptyString>((path, node) =>
        {
            var key = _keys.Broadcast(path.Get, node.Get);
            return _keys.TryParseBroadcast(key, out var p, out var n) && p == path.Get && n == node.Get
                && _keys.TryParseNode(_keys.Node(node.Get), out var id) && id == node.Get;
        }).QuickCheckThrowOnFailure();
}
