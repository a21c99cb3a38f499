using System.Diagnostics;

namespace MoqCluster.TestSupport;

/// <summary>
/// Real etcd members on 127.0.0.1 with free ports and temp data dirs (the cookbook's recipe in
/// C#). Every member is a <see cref="ChildProcess"/> killed by PID on dispose, even when a test fails.
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    private static readonly HttpClient Health = new() { Timeout = TimeSpan.FromSeconds(1) };

    private readonly string _root;
    private readonly Member[] _members;
    private readonly string _extra;

    private EtcdCluster(string root, Member[] members, string extra)
    {
        _root = root;
        _members = members;
        _extra = extra;
    }

    /// <summary>Client URLs of all members, in member order.</summary>
    public IReadOnlyList<Uri> Endpoints => _members.Select(m => new Uri($"http://127.0.0.1:{m.ClientPort}")).ToList();

    /// <summary>The <c>--Cluster:Etcd</c> form of <see cref="Endpoints"/>.</summary>
    public string EndpointList => string.Join(',', Endpoints.Select(u => u.ToString().TrimEnd('/')));

    /// <summary>Start <paramref name="size"/> members and wait until every one is healthy.</summary>
    /// <param name="size">1 or 3.</param>
    /// <param name="fastElections">Short heartbeat/election timeouts (single member: 1 s minimum lease TTL).</param>
    public static async Task<EtcdCluster> StartAsync(int size, bool fastElections = false)
    {
        if (!File.Exists("/usr/bin/etcd") && !File.Exists("/usr/local/bin/etcd"))
        {
            throw new InvalidOperationException("etcd is not installed: apt-get install -y etcd-server (scripts/test.sh does it)");
        }

        var root = Directory.CreateTempSubdirectory("silo-etcd-").FullName;
        var members = Enumerable.Range(1, size)
            .Select(i => new Member($"n{i}", FreePort.Get(), FreePort.Get(), Path.Combine(root, $"n{i}")))
            .ToArray();
        var cluster = new EtcdCluster(root, members, fastElections ? "--heartbeat-interval 50 --election-timeout 500" : "");
        try
        {
            foreach (var m in members)
            {
                cluster.Launch(m);
            }

            foreach (var m in members)
            {
                await cluster.WaitHealthyAsync(m, TimeSpan.FromSeconds(20));
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>SIGKILL member <paramref name="index"/> (0-based) and wait for it to be gone.</summary>
    public async Task KillAsync(int index)
    {
        var process = _members[index].Process;
        _members[index].Process = null;
        if (process is not null)
        {
            await process.DisposeAsync(); // Process.Kill = SIGKILL, then reaped
        }
    }

    /// <summary>Start member <paramref name="index"/> again on its ports, on its old data dir or on an empty one.</summary>
    public async Task RestartAsync(int index, bool freshData)
    {
        var m = _members[index];
        if (m.Process is not null)
        {
            throw new InvalidOperationException($"{m.Name} is running");
        }

        if (freshData)
        {
            if (_members.Length != 1)
            {
                throw new NotSupportedException("a fresh data dir in a multi-member cluster needs a member re-add");
            }

            Directory.Delete(m.DataDir, recursive: true);
        }

        Launch(m);
        await WaitHealthyAsync(m, TimeSpan.FromSeconds(20));
    }

    /// <summary>Number of members.</summary>
    public int Size => _members.Length;

    /// <summary>True while member <paramref name="index"/> runs.</summary>
    public bool IsRunning(int index) => _members[index].Process is { HasExited: false };

    /// <summary>
    /// The index of the current leader, asked of every running member over <c>POST /v3/maintenance/status</c>
    /// (the member whose <c>header.member_id</c> equals the <c>leader</c> it reports), or -1 while there is none.
    /// </summary>
    public async Task<int> LeaderIndexAsync()
    {
        for (var i = 0; i < _members.Length; i++)
        {
            if (!IsRunning(i))
            {
                continue;
            }

            try
            {
                using var content = new StringContent("{}");
                using var response = await Health.PostAsync($"http://127.0.0.1:{_members[i].ClientPort}/v3/maintenance/status", content);
                using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var root = doc.RootElement;
                if (root.TryGetProperty("leader", out var leader) && root.GetProperty("header").GetProperty("member_id").GetString() == leader.GetString())
                {
                    return i;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or KeyNotFoundException)
            {
                // Not answering: try the next member.
            }
        }

        return -1;
    }

    /// <summary>SIGKILL every member (a full outage); data dirs are kept for <see cref="RestartAllAsync"/>.</summary>
    public async Task KillAllAsync()
    {
        for (var i = 0; i < _members.Length; i++)
        {
            await KillAsync(i);
        }
    }

    /// <summary>Start every stopped member again on its old data dir and wait until all are healthy (quorum needs them together).</summary>
    public async Task RestartAllAsync()
    {
        var stopped = _members.Where(m => m.Process is null).ToList();
        foreach (var m in stopped)
        {
            Launch(m);
        }

        foreach (var m in stopped)
        {
            await WaitHealthyAsync(m, TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Kill every member (by PID) and delete the data dirs.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var m in _members)
        {
            if (m.Process is { } p)
            {
                m.Process = null;
                await p.DisposeAsync();
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir.
        }
    }

    private void Launch(Member m)
    {
        var cluster = string.Join(',', _members.Select(x => $"{x.Name}=http://127.0.0.1:{x.PeerPort}"));
        var args = new List<string>
        {
            "--name", m.Name, "--data-dir", m.DataDir,
            "--listen-client-urls", $"http://127.0.0.1:{m.ClientPort}", "--advertise-client-urls", $"http://127.0.0.1:{m.ClientPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{m.PeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{m.PeerPort}",
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", Path.GetFileName(_root),
            "--logger", "zap", "--log-outputs", "stderr",
        };
        args.AddRange(_extra.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        m.Process = ProcessRunner.Start("etcd", args);
    }

    private async Task WaitHealthyAsync(Member m, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (m.Process is { HasExited: true } p)
            {
                throw new InvalidOperationException($"etcd {m.Name} exited:\n{p.Stderr}");
            }

            try
            {
                var body = await Health.GetStringAsync($"http://127.0.0.1:{m.ClientPort}/health");
                if (body.Contains("\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"etcd {m.Name} not healthy within {timeout}:\n{m.Process?.Stderr}");
    }

    private sealed class Member(string name, int clientPort, int peerPort, string dataDir)
    {
        public string Name { get; } = name;

        public int ClientPort { get; } = clientPort;

        public int PeerPort { get; } = peerPort;

        public string DataDir { get; } = dataDir;

        public ChildProcess? Process { get; set; }
    }
}
