using System.Security.Cryptography;

namespace MoqCluster.TestSupport;

/// <summary>
/// Runs the npm-client interop scripts in <c>tests/Interop/js</c> (pub.mjs, sub.mjs, announced.mjs,
/// server.mjs) with Node.js. The first use in a test run makes sure <c>npm ci</c> has installed the
/// locked dependencies (skipped when the stamp in <c>node_modules</c> matches the lock file).
/// </summary>
/// <example>
/// <code>
/// var sub = await NodeInterop.RunAsync("sub.mjs", [url, "demo/cam", "video", "--lib", "net", "--expect-groups", "5"], TimeSpan.FromSeconds(60));
/// Assert.True(sub.Ok, sub.Describe());
/// </code>
/// </example>
public static class NodeInterop
{
    /// <summary>Name of the stamp file in <c>node_modules</c>; it holds the SHA-256 (hex) of <c>package-lock.json</c>.</summary>
    public const string StampFileName = ".moqcluster-npm-ci.stamp";

    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);
    private static readonly object InstallGate = new();
    private static Task? _install;

    /// <summary>The folder holding the scripts, <c>package.json</c> and <c>package-lock.json</c>.</summary>
    public static string ScriptsDirectory => RepoPaths.InteropJs;

    /// <summary>The Node.js executable: <c>$MOQ_NODE</c> if set, else <c>node</c> from PATH.</summary>
    public static string NodeExecutable => Environment.GetEnvironmentVariable("MOQ_NODE") is { Length: > 0 } node ? node : "node";

    /// <summary>
    /// Run <c>npm ci</c> in <see cref="ScriptsDirectory"/> unless the stamp says the installed tree
    /// matches the lock file. Runs at most once per process (concurrent callers share the task) and
    /// is serialized across processes with a lock file.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>npm ci</c> failed.</exception>
    public static Task EnsureInstalledAsync()
    {
        lock (InstallGate)
        {
            return _install ??= Task.Run(InstallAsync);
        }
    }

    /// <summary>Start a script and return while it runs (e.g. a subscriber started before its publisher).</summary>
    /// <param name="script">Script file in <see cref="ScriptsDirectory"/>, e.g. <c>sub.mjs</c>.</param>
    /// <param name="arguments">Script arguments.</param>
    /// <param name="log">Receives every output line (e.g. an xunit <c>ITestOutputHelper.WriteLine</c>).</param>
    /// <returns>The running script; dispose it to kill it.</returns>
    public static async Task<NodeScript> StartAsync(string script, IEnumerable<string> arguments, Action<string>? log = null)
    {
        await EnsureInstalledAsync().ConfigureAwait(false);
        var path = Path.Combine(ScriptsDirectory, script);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no interop script {script}", path);
        }

        var child = ProcessRunner.Start(NodeExecutable, [path, .. arguments], ScriptsDirectory, log: log);
        return new NodeScript(script, child);
    }

    /// <summary>Run a script to completion; past <paramref name="timeout"/> its process tree is killed.</summary>
    /// <param name="script">Script file in <see cref="ScriptsDirectory"/>, e.g. <c>sub.mjs</c>.</param>
    /// <param name="arguments">Script arguments.</param>
    /// <param name="timeout">Hard deadline (give the script's own <c>--timeout</c> some slack below it).</param>
    /// <param name="log">Receives every output line.</param>
    /// <param name="cancellationToken">Cancels the run; the process tree is killed.</param>
    public static async Task<NodeRunResult> RunAsync(
        string script,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        await using var running = await StartAsync(script, arguments, log).ConfigureAwait(false);
        return await running.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stamp value for the current lock file: lowercase hex SHA-256 of <c>package-lock.json</c>.</summary>
    public static string LockFileHash() =>
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(ScriptsDirectory, "package-lock.json"))));

    private static async Task InstallAsync()
    {
        var dir = ScriptsDirectory;
        var stamp = Path.Combine(dir, "node_modules", StampFileName);
        var hash = LockFileHash();
        if (ReadStamp(stamp) == hash)
        {
            return;
        }

        using var crossProcess = await AcquireLockAsync(Path.Combine(dir, ".npm-ci.lock")).ConfigureAwait(false);
        if (ReadStamp(stamp) == hash)
        {
            return; // another test process installed it while we waited
        }

        var result = await ProcessRunner.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], InstallTimeout, dir).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"npm ci in {dir} failed\n{result.Describe()}");
        }

        await File.WriteAllTextAsync(stamp, hash).ConfigureAwait(false);
    }

    private static string? ReadStamp(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    private static async Task<FileStream> AcquireLockAsync(string path)
    {
        var deadline = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200).ConfigureAwait(false);
            }
        }
    }
}
