namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>Assertions on what the C# reader saw.</summary>
internal static class CSharpAssert
{
    /// <summary>Groups 0..<paramref name="groups"/>-1 arrived once each, complete and verified, nothing else.</summary>
    public static void ReadAll(TrackReadReport report, int groups, int frames, int size, string context = "")
    {
        Assert.True(report.Errors.Count == 0, $"{report}\n{context}");
        Assert.Equal(groups, report.GroupsComplete);
        Assert.Equal(Enumerable.Range(0, groups).Select(g => (ulong)g), report.Sequences.Order());
        Assert.Equal(groups * frames, report.Frames);
        Assert.Equal((long)groups * frames * size, report.Bytes);
    }
}
