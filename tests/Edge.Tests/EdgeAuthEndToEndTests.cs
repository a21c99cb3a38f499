using System.Net.WebSockets;
using MoqCluster.Edge.Auth;
using MoqCluster.Protocol.Client;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Transport;
using MoqCluster.TestSupport;

namespace MoqCluster.Edge.Tests;

/// <summary>One edge process with <c>--Auth:Key</c> (a verify-only ES256 key), shared by the tests of a class.</summary>
public sealed class AuthEdgeFixture : IAsyncLifetime
{
    /// <summary>The signing key; the relay only has its public half.</summary>
    public JwkKey Key { get; } = JwkKey.Generate("ES256", "e2e");

    /// <summary>The running relay.</summary>
    public EdgeProcess Edge { get; } = new();

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(Edge.TempDirectory, "relay.jwk");
        await File.WriteAllTextAsync(keyFile, Key.ToPublic().ToJson());
        await Edge.StartAsync($"--Auth:Key={keyFile}");
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Edge.DisposeAsync();
}

/// <summary>The real edge answering WebSocket upgrades according to the token, and closing sessions at expiry.</summary>
public sealed class EdgeAuthEndToEndTests(AuthEdgeFixture fixture, ITestOutputHelper output) : IClassFixture<AuthEdgeFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private string Sign(TokenClaims claims) => TokenSigner.Sign(fixture.Key, claims);

    /// <summary>The HTTP status the edge answers a WebSocket upgrade with.</summary>
    private async Task<int> UpgradeStatusAsync(string path, string? jwt)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.AddSubProtocol(WebSocketSubprotocol.LegacyTag);
        var query = jwt is null ? "" : "?jwt=" + Uri.EscapeDataString(jwt);
        using var guard = new CancellationTokenSource(HangGuard);
        try
        {
            await socket.ConnectAsync(fixture.Edge.Address("ws", path + query), guard.Token);
            socket.Abort();
        }
        catch (WebSocketException ex)
        {
            output.WriteLine($"{path}: {ex.Message}");
        }
        return (int)socket.HttpStatusCode;
    }

    [Fact]
    public async Task NoToken_Is401()
        => Assert.Equal(401, await UpgradeStatusAsync("/demo", null));

    [Fact]
    public async Task TokenFromAnotherKey_Is401()
        => Assert.Equal(401, await UpgradeStatusAsync("/demo", TokenSigner.Sign(JwkKey.Generate("ES256", "e2e"), TestTokens.Demo())));

    [Fact]
    public async Task RootMismatch_Is401()
        => Assert.Equal(401, await UpgradeStatusAsync("/other", Sign(TestTokens.Demo())));

    [Fact]
    public async Task NarrowToken_Is403()
        => Assert.Equal(403, await UpgradeStatusAsync("/demo/room", Sign(TestTokens.Claims("demo", ["my-stream"]))));

    [Theory]
    [InlineData("/demo")]
    [InlineData("/")]
    [InlineData("/demo/room")]
    public async Task GoodToken_Upgrades(string path)
        => Assert.Equal(101, await UpgradeStatusAsync(path, Sign(TestTokens.Demo(DateTimeOffset.UtcNow.AddHours(1)))));

    [Fact]
    public async Task MoqClient_WithTokenConnects_AndIsRefusedWithout()
    {
        await using (var client = await MoqClient.ConnectAsync(fixture.Edge.Address("http", "/demo"), new MoqClientOptions { Token = Sign(TestTokens.Demo()) }))
            Assert.False(client.Closed.IsCompleted);

        var refused = await Assert.ThrowsAsync<ProtocolException>(() => MoqClient.ConnectAsync(fixture.Edge.Address("http", "/demo")));
        Assert.Equal(MoqErrorCode.Unauthorized, refused.Code);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(WebSocketSubprotocol.LegacyTag)]
    public async Task ExpiringToken_ClosesTheSessionWithUnauthorized(string? subprotocol)
    {
        // exp has whole-second resolution: round up so the token lives at least 3 s.
        var exp = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 4);
        var token = Sign(TestTokens.Demo(exp));
        var options = new MoqClientOptions { Token = token, Subprotocols = subprotocol is null ? null : [subprotocol] };

        await using var client = await MoqClient.ConnectAsync(fixture.Edge.Address("http", "/demo"), options);
        var closed = await client.Closed.WaitAsync(HangGuard);

        output.WriteLine($"closed: {closed}");
        foreach (var line in fixture.Edge.Process.StdoutLines.TakeLast(40))
            output.WriteLine("relay: " + line);
        Assert.Equal((ulong)MoqErrorCode.Unauthorized, closed.Code);
        Assert.True(closed.ByPeer);
        Assert.True(DateTimeOffset.UtcNow >= exp.AddSeconds(-1), "closed before the token's exp");
    }
}

/// <summary>The edge executable's <c>token</c> CLI and startup key checks.</summary>
public sealed class EdgeCommandLineTests
{
    [Fact]
    public async Task TokenCli_RunsInsteadOfTheRelay()
    {
        using var dir = new TestTokens.TempDirectory();
        var keyFile = dir.File("key.jwk");

        var generate = await EdgeProcess.RunAsync("token", "generate", "--alg", "HS256", "--out", keyFile, "--kid", "cli");
        Assert.True(generate.Succeeded, generate.Describe());
        var sign = await EdgeProcess.RunAsync("token", "sign", "--key", keyFile, "--root", "demo", "--put", "my-stream", "--get", "", "--expires", "1h");
        Assert.True(sign.Succeeded, sign.Describe());

        var token = Assert.Single(sign.StdoutLines, line => line.Length > 0);
        var result = await new TokenVerifier(KeyRing.Open(keyFile)).VerifyAsync(token);
        Assert.True(result.IsValid, result.Detail);
    }

    [Fact]
    public async Task EdDsaKey_StopsTheRelayAtStartupWithAClearMessage()
    {
        using var dir = new TestTokens.TempDirectory();
        var keyFile = dir.File("ed.jwk");
        await File.WriteAllTextAsync(keyFile, """{"alg":"EdDSA","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""");

        var run = await EdgeProcess.RunAsync("--urls", $"http://127.0.0.1:{FreePort.Get()}", $"--Auth:Key={keyFile}");

        Assert.False(run.Succeeded);
        Assert.False(run.TimedOut);
        Assert.Contains("EdDSA", run.Stderr + string.Join("\n", run.StdoutLines));
    }
}
