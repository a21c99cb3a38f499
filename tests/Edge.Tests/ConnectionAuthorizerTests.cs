using MoqCluster.Edge.Auth;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Tests;

/// <summary>The connect-time decision: tokens, public prefixes, 401 versus 403, logging and counting.</summary>
public sealed class ConnectionAuthorizerTests
{
    private readonly ManualClock _clock = new();
    private readonly JwkKey _key = JwkKey.Generate("HS256");
    private readonly ListLogger<ConnectionAuthorizer> _log = new();
    private readonly AuthFailures _failures = new();

    private ConnectionAuthorizer WithKey(string publicPrefixes = "")
        => new(new TokenVerifier(KeyRing.Single(_key), _clock), PublicAccess.Parse(publicPrefixes), _failures, _log);

    private ConnectionAuthorizer WithoutKey(string publicPrefixes = "anon")
        => new(null, PublicAccess.Parse(publicPrefixes), _failures, _log);

    private string Sign(TokenClaims claims) => TokenSigner.Sign(_key, claims);

    [Theory]
    [InlineData("/demo", 200)]
    [InlineData("/", 200)]
    [InlineData("/demo/room", 200)]
    [InlineData("/other", 401)]
    public async Task SpecTable_Statuses(string path, int status)
    {
        var decision = await WithKey().AuthorizeAsync(MoqPath.Parse(path), Sign(TestTokens.Demo()));

        Assert.Equal(status, decision.StatusCode);
    }

    [Fact]
    public async Task NarrowToken_GrantingNothingHere_Is403()
    {
        var decision = await WithKey().AuthorizeAsync("demo/room", Sign(TestTokens.Claims("demo", ["my-stream"])));

        Assert.Equal(403, decision.StatusCode);
        Assert.Equal(AuthFailureKind.NothingGranted, decision.Failure!.Kind);
    }

    [Fact]
    public async Task Grant_CarriesTheTokenExpiry()
    {
        var exp = _clock.GetUtcNow().AddMinutes(5);

        var decision = await WithKey().AuthorizeAsync("demo", Sign(TestTokens.Demo(exp)));

        Assert.Equal(exp.ToUnixTimeSeconds(), decision.Grant!.ExpiresAt!.Value.ToUnixTimeSeconds());
        Assert.Equal([MoqPath.Parse("my-stream")], decision.Grant.Publish);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task KeyButNoTokenAndNoPublicPrefix_Is401(string? jwt)
    {
        var decision = await WithKey().AuthorizeAsync("demo", jwt);

        Assert.Equal(401, decision.StatusCode);
        Assert.Equal(AuthFailureKind.MissingToken, decision.Failure!.Kind);
    }

    [Fact]
    public async Task KeyAndPublicPrefix_LetsTokenlessClientsIntoIt()
    {
        var auth = WithKey("live");

        var inside = await auth.AuthorizeAsync("live/room", null);
        var outside = await auth.AuthorizeAsync("demo", null);

        Assert.True(inside.IsAllowed);
        Assert.Equal([MoqPath.Empty], inside.Grant!.Publish);
        Assert.Equal(403, outside.StatusCode);
        Assert.True((await auth.AuthorizeAsync("demo", Sign(TestTokens.Demo()))).IsAllowed);
    }

    [Fact]
    public async Task NoKey_AnonymousDefault_AndTokensRefused()
    {
        var auth = WithoutKey();

        Assert.True((await auth.AuthorizeAsync("anon", null)).IsAllowed);
        var withToken = await auth.AuthorizeAsync("anon", Sign(TestTokens.Demo()));
        Assert.Equal(401, withToken.StatusCode);
        Assert.Equal(AuthFailureKind.TokensNotAccepted, withToken.Failure!.Kind);
    }

    [Fact]
    public async Task InvalidTokens_Are401()
    {
        var auth = WithKey();

        Assert.Equal(401, (await auth.AuthorizeAsync("demo", "garbage")).StatusCode);
        Assert.Equal(401, (await auth.AuthorizeAsync("demo", TokenSigner.Sign(JwkKey.Generate("HS256"), TestTokens.Demo()))).StatusCode);
        Assert.Equal(401, (await auth.AuthorizeAsync("demo", Sign(TestTokens.Demo(_clock.GetUtcNow().AddSeconds(-1))))).StatusCode);
    }

    [Fact]
    public async Task Failures_AreCountedAndLoggedOncePerRefusal_WithoutTheToken()
    {
        var auth = WithKey();
        var seen = new List<AuthFailure>();
        _failures.Recorded += seen.Add;
        var token = Sign(TestTokens.Demo());

        await auth.AuthorizeAsync("other", token);
        await auth.AuthorizeAsync("demo", null);
        await auth.AuthorizeAsync("demo", token[..^4] + "AAAA");
        await auth.AuthorizeAsync("demo", token);

        Assert.Equal(3, _failures.Total);
        Assert.Equal(1, _failures.Count(AuthFailureKind.RootMismatch));
        Assert.Equal(1, _failures.Count(AuthFailureKind.MissingToken));
        Assert.Equal(1, _failures.Count(AuthFailureKind.InvalidSignature));
        Assert.Equal(3, seen.Count);
        Assert.Equal(3, _log.Lines.Count);
        var payload = token.Split('.')[1];
        Assert.All(_log.Lines, line => Assert.DoesNotContain(payload, line));
        Assert.All(_log.Lines, line => Assert.Contains("auth refused", line));
    }
}
