using System.Diagnostics;
using MoqCluster.Protocol.Client;

namespace MoqCluster.Cluster.Tests;

/// <summary>
/// The root <c>docker-compose.yml</c> as a user runs it, on images built locally by <c>deploy/build-local-images.sh</c>
/// (no registry): three etcd members and three edges on a compose network, edges published on 127.0.0.1 only;
/// publish on edge 1 and subscribe on edge 2 through those ports, then <c>down</c>.
/// </summary>
public sealed class ComposeSmokeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(90);

    [DockerFact]
    public async Task ComposeClusterBuiltFromLocalImagesCarriesABroadcastAcrossEdges()
    {
        var root = RepoPaths.Root;
        try
        {
            var clock = Stopwatch.StartNew();
            var build = await ProcessRunner.RunAsync("bash", [Path.Combine(root, "deploy", "build-local-images.sh")], TimeSpan.FromMinutes(10), root);
            Assert.True(build.Succeeded, $"deploy/build-local-images.sh failed:\n{build.Describe()}");
            output.WriteLine($"local images built in {clock.Elapsed.TotalSeconds:F1} s");

            var project = $"moqsmoke{Guid.NewGuid():N}"[..16];
            var ports = new[] { FreePort.Get(), FreePort.Get(), FreePort.Get() };
            var environment = new Dictionary<string, string?>
            {
                ["CLUSTER_SECRET"] = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
                ["EDGE1_PORT"] = $"{ports[0]}",
                ["EDGE2_PORT"] = $"{ports[1]}",
                ["EDGE3_PORT"] = $"{ports[2]}",
            };
            string[] compose = ["-p", project, "-f", Path.Combine(root, "docker-compose.yml"), "--env-file", Path.Combine(root, "deploy", "local.env")];
            try
            {
                clock.Restart();
                var up = await ProcessRunner.RunAsync("docker-compose", [.. compose, "up", "-d", "--no-build"], TimeSpan.FromMinutes(3), root, environment);
                Assert.True(up.Succeeded, $"docker-compose up failed:\n{up.Describe()}");
                output.WriteLine($"docker-compose up -d: {clock.Elapsed.TotalSeconds:F1} s");

                var edge1 = $"http://127.0.0.1:{ports[0]}";
                var edge2 = $"http://127.0.0.1:{ports[1]}";
                await WaitHealthyAsync(edge1);
                await WaitHealthyAsync(edge2);
                output.WriteLine($"edges healthy {clock.Elapsed.TotalSeconds:F1} s after up");

                await using var publisher = await MoqClient.ConnectAsync(new Uri($"{edge1}/anon"));
                var broadcast = publisher.Publish("smoke/cam");
                await using var writer = new TrackWriter(broadcast.CreateTrack("video"), 0, TimeSpan.FromMilliseconds(100));
                await using var subscriber = await MoqClient.ConnectAsync(new Uri($"{edge2}/anon"));
                using var announced = new AnnouncementLog(subscriber.Announced("smoke"));
                var (consumer, _) = await announced.WaitAsync("smoke/cam", active: true, Guard, describe: () => Logs(compose, environment));
                using var track = new TrackLog(consumer!.Subscribe("video"), 3);
                var first = await track.WaitForAsync(0, Guard, () => Logs(compose, environment));
                await track.WaitForAsync(first.Sequence + 5, Guard, () => Logs(compose, environment));
                Assert.Empty(track.Errors);
                output.WriteLine($"published on edge1 (127.0.0.1:{ports[0]}), received on edge2 (127.0.0.1:{ports[1]}): {track.Describe()}");
            }
            finally
            {
                var down = await ProcessRunner.RunAsync("docker-compose", [.. compose, "down", "-v", "--remove-orphans", "-t", "5"], TimeSpan.FromMinutes(2), root, environment);
                output.WriteLine($"docker-compose down: exit {down.ExitCode}");
            }
        }
        finally
        {
            if (DockerFactAttribute.EngineStartedByTests)
                await ProcessRunner.RunAsync("bash", [Path.Combine(root, "deploy", "docker-engine.sh"), "stop"], TimeSpan.FromMinutes(1));
        }
    }

    private static string Logs(string[] compose, IReadOnlyDictionary<string, string?> environment)
    {
        var logs = ProcessRunner.RunAsync("docker-compose", [.. compose, "logs", "--no-color", "--tail", "30"], TimeSpan.FromSeconds(30), RepoPaths.Root, environment).GetAwaiter().GetResult();
        return string.Join("\n", logs.StdoutLines) + logs.Stderr;
    }

    private static async Task WaitHealthyAsync(string url)
    {
        // docker-proxy accepts a TCP connection before the app listens: EdgeHealth waits for a real HTTP answer.
        if (!await EdgeHealth.WaitAsync(url, Guard))
            throw new TimeoutException($"{url}/health did not answer within {Guard}");
    }
}
