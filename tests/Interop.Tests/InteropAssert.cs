using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>Assertions on the summaries of the npm scripts.</summary>
internal static class InteropAssert
{
    /// <summary>
    /// <c>sub.mjs</c> received exactly <paramref name="groups"/> complete groups of <paramref name="frames"/> frames of
    /// <paramref name="size"/> bytes, every payload verified, in order, without duplicates, sequence == payload group.
    /// </summary>
    public static void ReceivedAll(NodeRunResult sub, int groups, int frames, int size, string context = "")
    {
        Assert.True(sub.Ok, sub.Describe() + context);
        Assert.Equal(groups, sub.SummaryInt("groups_complete"));
        Assert.Equal((long)groups * frames, sub.SummaryInt("frames"));
        Assert.Equal((long)groups * frames * size, sub.SummaryInt("bytes"));
        Verified(sub, context);
    }

    /// <summary>No payload, order, duplicate or sequence error and no error text.</summary>
    public static void Verified(NodeRunResult sub, string context = "")
    {
        Assert.True(sub.SummaryInt("payload_errors") == 0, sub.Describe() + context);
        Assert.True(sub.SummaryInt("order_errors") == 0, sub.Describe() + context);
        Assert.True(sub.SummaryInt("duplicate_frames") == 0, sub.Describe() + context);
        Assert.True(sub.SummaryInt("sequence_errors") == 0, sub.Describe() + context);
        Assert.True(sub.SummaryErrors.Count == 0, sub.Describe() + context);
    }

    /// <summary><c>pub.mjs</c> succeeded and wrote every group.</summary>
    public static void Sent(NodeRunResult pub, int groups, string context = "")
    {
        Assert.True(pub.Ok, pub.Describe() + context);
        Assert.Equal(groups, pub.SummaryInt("groups_sent"));
    }

    /// <summary>The script reports the negotiated version and (when given) the selected subprotocol.</summary>
    public static void Negotiated(NodeRunResult result, string version, string? subprotocol, string context = "")
    {
        Assert.True(version == result.SummaryString("version"), $"expected {version}\n{result.Describe()}{context}");
        if (subprotocol is not null)
        {
            Assert.True(subprotocol == result.SummaryString("subprotocol"), $"expected {subprotocol}\n{result.Describe()}{context}");
        }
    }
}
