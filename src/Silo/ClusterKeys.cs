using System.Text;

namespace MoqCluster.Silo;

/// <summary>
/// The key layout under the cluster prefix (default <c>/moqcluster/</c>):
/// <list type="bullet">
/// <item><c>{prefix}nodes/{nodeId}</c> → <see cref="NodeInfo"/> JSON, under the node's lease;</item>
/// <item><c>{prefix}broadcasts/{path}/{nodeId}</c> → <see cref="BroadcastEntry"/> JSON, under the publishing node's lease;</item>
/// <item><c>{prefix}epoch</c> → the cluster-wide epoch counter (decimal), no lease.</item>
/// </list>
/// Paths and node ids are escaped (<c>%</c> → <c>%25</c>, <c>/</c> → <c>%2F</c>) so each is exactly
/// one key segment: the prefix <c>broadcasts/a/</c> then lists path <c>a</c> only, never <c>a/b</c>.
/// </summary>
public sealed class ClusterKeys
{
    /// <summary>Create the layout under a prefix.</summary>
    /// <param name="prefix">The root prefix; must end with '/'.</param>
    public ClusterKeys(string prefix)
    {
        Root = prefix.EndsWith('/') ? prefix : prefix + "/";
    }

    /// <summary>The root prefix.</summary>
    public string Root { get; }

    /// <summary>Prefix of every node key.</summary>
    public string NodesPrefix => Root + "nodes/";

    /// <summary>Prefix of every broadcast key.</summary>
    public string BroadcastsPrefix => Root + "broadcasts/";

    /// <summary>The epoch counter key.</summary>
    public string EpochKey => Root + "epoch";

    /// <summary>The key of a node.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <returns>The key.</returns>
    public string Node(string nodeId) => NodesPrefix + Escape(nodeId);

    /// <summary>The key of one node's entry for one broadcast path.</summary>
    /// <param name="path">The broadcast path.</param>
    /// <param name="nodeId">The publishing node.</param>
    /// <returns>The key.</returns>
    public string Broadcast(string path, string nodeId) => BroadcastPath(path) + Escape(nodeId);

    /// <summary>The prefix of every node's entry for one broadcast path.</summary>
    /// <param name="path">The broadcast path.</param>
    /// <returns>The prefix.</returns>
    public string BroadcastPath(string path) => BroadcastsPrefix + Escape(path) + "/";

    /// <summary>Split a node key.</summary>
    /// <param name="key">A key under <see cref="NodesPrefix"/>.</param>
    /// <param name="nodeId">The node id.</param>
    /// <returns>False when the key is not a well-formed node key.</returns>
    public bool TryParseNode(string key, out string nodeId)
    {
        nodeId = "";
        if (!key.StartsWith(NodesPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key[NodesPrefix.Length..];
        return rest.Length > 0 && !rest.Contains('/') && TryUnescape(rest, out nodeId);
    }

    /// <summary>Split a broadcast key.</summary>
    /// <param name="key">A key under <see cref="BroadcastsPrefix"/>.</param>
    /// <param name="path">The broadcast path.</param>
    /// <param name="nodeId">The publishing node.</param>
    /// <returns>False when the key is not a well-formed broadcast key.</returns>
    public bool TryParseBroadcast(string key, out string path, out string nodeId)
    {
        path = nodeId = "";
        if (!key.StartsWith(BroadcastsPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(BroadcastsPrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash < 0 || rest[(slash + 1)..].Contains('/') || slash + 1 == rest.Length)
        {
            return false;
        }

        return TryUnescape(rest[..slash].ToString(), out path) && TryUnescape(rest[(slash + 1)..].ToString(), out nodeId);
    }

    /// <summary>Escape a segment so it contains no '/'.</summary>
    /// <param name="segment">Any string.</param>
    /// <returns>The escaped form.</returns>
    public static string Escape(string segment)
    {
        if (segment.AsSpan().IndexOfAny('%', '/') < 0)
        {
            return segment;
        }

        var builder = new StringBuilder(segment.Length + 8);
        foreach (var c in segment)
        {
            _ = c switch
            {
                '%' => builder.Append("%25"),
                '/' => builder.Append("%2F"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>Undo <see cref="Escape"/>.</summary>
    /// <param name="escaped">An escaped segment.</param>
    /// <param name="segment">The original string.</param>
    /// <returns>False when the text is not a valid escaped segment (keys from the store are untrusted).</returns>
    public static bool TryUnescape(string escaped, out string segment)
    {
        segment = escaped;
        if (!escaped.Contains('%'))
        {
            return true;
        }

        var builder = new StringBuilder(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] != '%')
            {
                builder.Append(escaped[i]);
                continue;
            }

            if (i + 2 >= escaped.Length)
            {
                return false;
            }

            var code = escaped.Substring(i + 1, 2).ToUpperInvariant();
            if (code == "25")
            {
                builder.Append('%');
            }
            else if (code == "2F")
            {
                builder.Append('/');
            }
            else
            {
                return false;
            }

            i += 2;
        }

        segment = builder.ToString();
        return true;
    }
}
