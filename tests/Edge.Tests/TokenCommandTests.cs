using Microsoft.IdentityModel.JsonWebTokens;
using MoqCluster.Edge.Auth;
using MoqCluster.Edge.Auth.Cli;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Tests;

/// <summary>The <c>token generate</c> / <c>token sign</c> CLI, run in-process.</summary>
public sealed class TokenCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = TokenCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task GenerateThenSign_ProducesATokenTheRelayAccepts()
    {
        using var dir = new TestTokens.TempDirectory();
        var keyFile = dir.File("key.jwk");
        var pubFile = dir.File("pub.jwk");

        var generate = Run("generate", "--alg", "ES256", "--out", keyFile, "--kid", "edge-1", "--public", pubFile);
        Assert.Equal(0, generate.Code);
        var sign = Run("sign", "--key", keyFile, "--root", "demo", "--put", "my-stream", "--get", "", "--expires", "1h");
        Assert.Equal(0, sign.Code);

        var token = sign.Out.Trim();
        Assert.Equal("edge-1", new JsonWebToken(token).Kid);
        var result = await new TokenVerifier(KeyRing.Open(pubFile)).VerifyAsync(token);
        Assert.True(result.IsValid, result.Detail);
        Assert.Equal(MoqPath.Parse("demo"), result.Claims!.Root);
        Assert.Equal([MoqPath.Parse("my-stream")], result.Claims.Put);
        Assert.Equal([MoqPath.Empty], result.Claims.Get);
        Assert.InRange(result.Claims.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(65));
        Assert.NotNull(result.Claims.IssuedAt);
    }

    [Fact]
    public void GeneratedKeyScope_LimitsSigning()
    {
        using var dir = new TestTokens.TempDirectory();
        var keyFile = dir.File("scoped.jwk");

        Assert.Equal(0, Run("generate", "--alg", "HS256", "--out", keyFile, "--scope-root", "demo", "--scope-put", "live").Code);

        Assert.Equal(0, Run("sign", "--key", keyFile, "--root", "demo", "--put", "live/a").Code);
        var refused = Run("sign", "--key", keyFile, "--root", "demo", "--put", "other");
        Assert.Equal(1, refused.Code);
        Assert.Contains("scope", refused.Err);
    }

    [Fact]
    public void EdDsa_FailsWithAClearMessage()
    {
        using var dir = new TestTokens.TempDirectory();

        var result = Run("generate", "--alg", "EdDSA", "--out", dir.File("ed.jwk"));

        Assert.Equal(1, result.Code);
        Assert.Contains("EdDSA", result.Err);
        Assert.False(File.Exists(dir.File("ed.jwk")));
    }

    [Theory]
    [InlineData]
    [InlineData("frobnicate")]
    [InlineData("generate", "--alg", "HS256")]
    [InlineData("sign", "--key")]
    [InlineData("sign", "--key", "k", "--bogus", "x")]
    [InlineData("sign", "--key", "k", "--root", "a", "--root", "b")]
    public void BadUsage_Exits2(params string[] args)
    {
        var result = Run(args);

        Assert.Equal(2, result.Code);
        Assert.Contains("usage", result.Err);
    }

    [Fact]
    public void SignWithoutGrants_Fails()
    {
        using var dir = new TestTokens.TempDirectory();
        var keyFile = dir.File("key.jwk");
        Run("generate", "--alg", "HS256", "--out", keyFile);

        var result = Run("sign", "--key", keyFile, "--root", "demo");

        Assert.Equal(1, result.Code);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("1h", 3600)]
    [InlineData("2d", 172800)]
    [InlineData("00:01:00", 60)]
    public void Durations(string text, int seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), TokenCommand.ParseDuration(text));

    [Theory]
    [InlineData("soon")]
    [InlineData("0s")]
    [InlineData("-5m")]
    public void BadDurations(string text)
        => Assert.Throws<FormatException>(() => TokenCommand.ParseDuration(text));
}
