using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MoqCluster.Silo;

/// <summary>
/// The live member set: this node (always listed, even while the store is unreachable) plus every
/// other node whose key exists under its lease. Fed by a mirror of the nodes prefix.
/// </summary>
public sealed class Membership
{
    private readonly object _gate = new();
    private readonly ClusterKeys _keys;
    private readonly ILogger _log;
    private readonly Dictionary<string, NodeInfo> _members = new(StringComparer.Ordinal);
    private readonly ChangeFeed<MemberChange> _feed = new();

    internal Membership(NodeInfo self, ClusterKeys keys, ILogger log)
    {
        Self = self;
        _keys = keys;
        _log = log;
        _members[self.NodeId] = self;
    }

    /// <summary>This node.</summary>
    public NodeInfo Self { get; }

    /// <summary>A snapshot of the live members by node id, this node included.</summary>
    public IReadOnlyDictionary<string, NodeInfo> Members
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, NodeInfo>(_members, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Look a member up.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <returns>The member, or null when it is not (or no longer) live.</returns>
    public NodeInfo? Find(string nodeId)
    {
        lock (_gate)
        {
            return _members.GetValueOrDefault(nodeId);
        }
    }

    /// <summary>
    /// The member set as a feed: when enumeration starts, a <see cref="MemberChangeKind.Joined"/>
    /// for every current member; then every change, in order, until cancelled or the silo stops.
    /// </summary>
    /// <param name="cancellationToken">Ends the feed.</param>
    /// <returns>The changes.</returns>
    public async IAsyncEnumerable<MemberChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        System.Threading.Channels.Channel<MemberChange> channel;
        lock (_gate)
        {
            channel = _feed.Add(_members.Values.Select(n => new MemberChange(MemberChangeKind.Joined, n)).ToList());
        }

        try
        {
            await foreach (var change in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return change;
            }
        }
        finally
        {
            lock (_gate)
            {
                _feed.Remove(channel);
            }
        }
    }

    internal byte[] SelfValue => JsonSerializer.SerializeToUtf8Bytes(Self, SiloJson.Default.NodeInfo);

    internal void OnMirrored(string key, byte[]? value)
    {
        if (!_keys.TryParseNode(key, out var nodeId) || nodeId == Self.NodeId)
        {
            return; // our own registration is known locally; the store's copy adds nothing
        }

        lock (_gate)
        {
            if (value is null)
            {
                if (_members.Remove(nodeId, out var gone))
                {
                    _feed.Publish(new MemberChange(MemberChangeKind.Left, gone));
                }

                return;
            }

            NodeInfo? node;
            try
            {
                node = JsonSerializer.Deserialize(value, SiloJson.Default.NodeInfo);
            }
            catch (JsonException e)
            {
                _log.LogWarning("ignoring malformed node key {Key}: {Error}", key, e.Message);
                return;
            }

            if (node is null || node.NodeId != nodeId)
            {
                _log.LogWarning("ignoring node key {Key}: its value names another node", key);
                return;
            }

            var kind = _members.ContainsKey(nodeId) ? MemberChangeKind.Updated : MemberChangeKind.Joined;
            _members[nodeId] = node;
            _feed.Publish(new MemberChange(kind, node));
        }
    }

    internal void Complete()
    {
        lock (_gate)
        {
            _feed.Complete();
        }
    }
}
