namespace MoqCluster.TestSupport;

/// <summary>Well-known folders of the repository, found from the running test assembly.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The repository root: the nearest ancestor of <see cref="AppContext.BaseDirectory"/> holding <c>Cluster.sln</c>.</summary>
    /// <exception cref="InvalidOperationException">No ancestor folder contains <c>Cluster.sln</c>.</exception>
    public static string Root => RootPath.Value;

    /// <summary>The Node.js interop harness, <c>tests/Interop/js</c>.</summary>
    public static string InteropJs => Path.Combine(Root, "tests", "Interop", "js");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} contains Cluster.sln");
    }
}
