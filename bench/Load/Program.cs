using System.Net;
using System.Text.Json;
using MoqCluster.Bench.Load;

// Verbs:
//   run    --system moq|moq-tcp|nats|loopback --url URL [--url2 URL] [--health URL]... [--cluster URL] [--server-pid PID]...
//          --id ID [--publishers 1] [--subscribers 10] [--frame 1024] [--rate 0] [--group-frames 30] [--duration 5]
//          [--warmup 2] [--idle] [--window-kb 1024] [--connect-parallel 64] [--connect-timeout 60] [--json FILE]
//   skip   --id ID --system SYSTEM --reason TEXT [--json FILE]          (prints and records a workload not run)
//   report --in FILE --md FILE --dat FILE [--context LINE]...
var json = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: MoqCluster.Bench.Load run|skip|report [options]  (see bench/run.sh)");
    return 2;
}
var line = new CommandLine(args.Skip(1));
try
{
    switch (args[0])
    {
        case "run":
            return await RunAsync(line, json);
        case "skip":
        {
            var reason = line.Required("reason");
            var result = new RunResult { Workload = line.Required("id"), System = line.Text("system", "moq")!, Note = reason };
            var file = line.Text("json");
            line.ThrowIfUnknown();
            Console.WriteLine($"{result.Workload} ({result.System}): {reason}");
            Append(file, result, json);
            return 0;
        }
        case "report":
        {
            var input = line.Required("in");
            var md = line.Required("md");
            var dat = line.Required("dat");
            var context = line.All("context");
            line.ThrowIfUnknown();
            var results = File.ReadAllLines(input).Where(l => l.Trim().Length > 0)
                .Select(l => JsonSerializer.Deserialize<RunResult>(l, json)!).ToList();
            await File.WriteAllTextAsync(md, MarkdownReport.Render(results, context));
            await File.WriteAllTextAsync(dat, MarkdownReport.ChartData(results));
            Console.WriteLine($"wrote {md} and {dat} ({results.Count} rows)");
            return 0;
        }
        default:
            Console.Error.WriteLine($"unknown verb '{args[0]}'");
            return 2;
    }
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

static async Task<int> RunAsync(CommandLine line, JsonSerializerOptions json)
{
    var system = line.Required("system");
    var url = new Uri(line.Required("url"));
    var url2 = line.Text("url2") is { } u2 ? new Uri(u2) : url;
    var pids = line.All("server-pid").Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToList();
    // Where the edges report the broadcasts they know: given, or derived from WebSocket URLs (publishers' edge, subscribers' edge).
    var health = line.All("health").Select(h => new Uri(h)).ToList();
    if (health.Count == 0)
        health = new[] { url, url2 }.Distinct().Select(MoqTarget.HealthOf).OfType<Uri>().ToList();
    var cluster = line.Text("cluster") is { } c ? new ClusterProbe(new Uri(c)) : null;
    var frame = line.Integer("frame") ?? 1024;
    var workload = new Workload(
        Id: line.Required("id"),
        Publishers: line.Integer("publishers") ?? 1,
        Subscribers: line.Integer("subscribers") ?? 10,
        FrameBytes: Math.Max(FramePayload.HeaderSize, frame),
        RateMbps: line.Number("rate", 0),
        GroupFrames: Math.Max(1, line.Integer("group-frames") ?? 30),
        Idle: line.Flag("idle"),
        Warmup: TimeSpan.FromSeconds(line.Number("warmup", 2)),
        Duration: TimeSpan.FromSeconds(line.Number("duration", 5)),
        WindowBytes: (line.Integer("window-kb") ?? 1024) * 1024);
    var parallel = line.Integer("connect-parallel") ?? 64;
    var connectTimeout = TimeSpan.FromSeconds(line.Number("connect-timeout", 60));
    var file = line.Text("json");
    using var allocations = line.Flag("alloc-types") ? new AllocationSampler() : null;
    line.ThrowIfUnknown();
    // With one publisher, socket completions run on the socket engine's thread, as in the relay: the generator's one core
    // then spends less on handing each receive to the thread pool (1 → 100, 1 KB, 2.5 Mbit/s: 63 → 50 % of its core over
    // TCP/QMux, 40 → 30 % for NATS; WebSocket unchanged). Not with many publishers: there the engine's thread and the
    // publishers' timers share the core by time, not by work, and the 100 × 8 workload delivered 155 k instead of 235 k
    // frames/s. Read once, when the first socket is made; an explicit setting wins.
    const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    if (workload.Publishers == 1 && Environment.GetEnvironmentVariable(InlineCompletions) is null)
        Environment.SetEnvironmentVariable(InlineCompletions, "1");
    if (system is "moq" or "moq-tcp" && health.Count == 0)
        throw new ArgumentException($"--health http://HOST:PORT/health is required with {url.Scheme}:// URLs (the edge's HTTP side)");
    if (system is "moq" or "moq-tcp" && (system == "moq-tcp") != (url.Scheme == "tcp"))
        throw new ArgumentException($"--system {system} does not match a {url.Scheme}:// URL (moq-tcp is tcp://, moq is http/ws)");
    var edges = url2 == url ? 1 : 2;

    // Whatever happens, this process ends: connect budget + warm-up + window + teardown + slack.
    var budget = connectTimeout * 2 + workload.Warmup + workload.Duration + TimeSpan.FromSeconds(30);
    using var watchdog = new Timer(_ =>
    {
        Console.Error.WriteLine($"[{system} {workload.Id}] watchdog: no result after {budget.TotalSeconds:F0} s, exiting");
        Environment.Exit(3);
    }, null, budget, Timeout.InfiniteTimeSpan);

    var errors = new RunErrors();
    RunResult result;
    try
    {
        result = system switch
        {
            "moq" or "moq-tcp" => await new WorkloadRunner(new MoqTarget(system, url, url2, health, errors), workload, pids, errors, parallel, connectTimeout, edges, cluster, allocations)
                .RunAsync(CancellationToken.None),
            "nats" => await new WorkloadRunner(new NatsTarget(await ResolveAsync(url), workload.GroupFrames, errors), workload, pids, errors, parallel, connectTimeout)
                .RunAsync(CancellationToken.None),
            "loopback" => await new LoopbackRunner(url.Host, url.Port, workload, pids, errors).RunAsync(CancellationToken.None),
            _ => throw new ArgumentException($"unknown system '{system}' (moq, moq-tcp, nats, loopback)"),
        };
    }
    catch (Exception ex) when (ex is not ArgumentException)
    {
        Console.Error.WriteLine($"[{system} {workload.Id}] failed: {ex}");
        result = new RunResult { Workload = workload.Id, System = system, Note = $"failed: {ex.GetType().Name}: {ex.Message}", Errors = errors.Count + 1, ErrorSamples = errors.Samples };
    }
    Console.WriteLine(ResultTable.Render([result]));
    if (allocations is not null)
        Console.Error.WriteLine($"[{system} {workload.Id}] generator allocations in the window by type (sampled):\n{allocations.Describe()}");
    Append(file, result, json);
    return 0;
}

static async Task<IPEndPoint> ResolveAsync(Uri url)
{
    var addresses = await Dns.GetHostAddressesAsync(url.Host);
    return new IPEndPoint(addresses[0], url.Port);
}

static void Append(string? file, RunResult result, JsonSerializerOptions json)
{
    if (file is null)
        return;
    File.AppendAllText(file, JsonSerializer.Serialize(result, json) + "\n");
}
