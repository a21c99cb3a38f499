using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MoqCluster.Edge.Auth;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Tests;

/// <summary>Token verification with each algorithm family, key selection and the claim rules.</summary>
public sealed class TokenVerifierTests
{
    private readonly ManualClock _clock = new();

    private TokenVerifier Verifier(JwkKey key) => new(KeyRing.Single(key), _clock);

    private static string SignRaw(JwkKey key, string payload, string? kid = null)
    {
        var signer = kid is null ? key : WithKid(key, kid);
        return new JsonWebTokenHandler().CreateToken(payload, new SigningCredentials(signer.SecurityKey, key.Algorithm.Name));
    }

    /// <summary>The same key material under another <c>kid</c>.</summary>
    private static JwkKey WithKid(JwkKey key, string kid)
    {
        var jwk = JsonNode.Parse(key.ToJson())!.AsObject();
        jwk["kid"] = kid;
        return JwkKey.Parse(jwk.ToJsonString());
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("RS256")]
    [InlineData("RS384")]
    [InlineData("RS512")]
    [InlineData("PS256")]
    [InlineData("PS384")]
    [InlineData("PS512")]
    public async Task EachAlgorithm_SignsAndVerifies(string alg)
    {
        var key = JwkKey.Generate(alg);
        var exp = _clock.GetUtcNow().AddHours(1);

        var token = TokenSigner.Sign(key, TestTokens.Demo(exp));
        var result = await Verifier(key).VerifyAsync(token);

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal(MoqPath.Parse("demo"), result.Claims!.Root);
        Assert.Equal([MoqPath.Parse("my-stream")], result.Claims.Put);
        Assert.Equal([MoqPath.Empty], result.Claims.Get);
        Assert.Equal(exp.ToUnixTimeSeconds(), result.Claims.ExpiresAt!.Value.ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("RS256")]
    public async Task PublicHalf_VerifiesTokensOfThePrivateKey(string alg)
    {
        var key = JwkKey.Generate(alg);
        var pub = JwkKey.Parse(key.ToPublic().ToJson());

        var result = await Verifier(pub).VerifyAsync(TokenSigner.Sign(key, TestTokens.Demo()));

        Assert.True(result.IsValid, result.Detail);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("ES256")]
    [InlineData("RS256")]
    public async Task WrongKey_IsRejected(string alg)
    {
        var token = TokenSigner.Sign(JwkKey.Generate(alg), TestTokens.Demo());

        var result = await Verifier(JwkKey.Generate(alg)).VerifyAsync(token);

        Assert.Equal(AuthFailureKind.InvalidSignature, result.Failure);
    }

    [Fact]
    public async Task TokenAlgorithmOtherThanTheKeys_IsRejected()
    {
        // Same secret, but the key says HS512: a token signed HS256 must not pass.
        var hs256 = JwkKey.Generate("HS256");
        var hs512 = JwkKey.Parse(hs256.ToJson().Replace("\"HS256\"", "\"HS512\"", StringComparison.Ordinal));

        var result = await Verifier(hs512).VerifyAsync(TokenSigner.Sign(hs256, TestTokens.Demo()));

        Assert.Equal(AuthFailureKind.InvalidSignature, result.Failure);
        Assert.Contains("HS512", result.Detail);
    }

    [Fact]
    public async Task UnsignedToken_IsRejected()
    {
        var key = JwkKey.Generate("HS256");
        var header = Base64Url.EncodeToString("""{"alg":"none","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(TestTokens.Demo().ToJson()));

        var result = await Verifier(key).VerifyAsync($"{header}.{payload}.");

        Assert.False(result.IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a.b")]
    public async Task Garbage_IsMalformed(string token)
    {
        var result = await Verifier(JwkKey.Generate("HS256")).VerifyAsync(token);

        Assert.Equal(AuthFailureKind.MalformedToken, result.Failure);
    }

    [Fact]
    public async Task Expired_IsRejected_AndNotBefore()
    {
        var key = JwkKey.Generate("ES256");
        var token = TokenSigner.Sign(key, TestTokens.Demo(_clock.GetUtcNow().AddSeconds(10)));

        Assert.True((await Verifier(key).VerifyAsync(token)).IsValid);
        _clock.Advance(TimeSpan.FromSeconds(11));
        var result = await Verifier(key).VerifyAsync(token);

        Assert.Equal(AuthFailureKind.Expired, result.Failure);
    }

    [Theory]
    [InlineData("""{"root":"demo"}""")]
    [InlineData("""{"root":"demo","put":[],"get":[]}""")]
    public async Task TokenGrantingNothing_IsInvalid(string payload)
    {
        var key = JwkKey.Generate("HS256");

        var result = await Verifier(key).VerifyAsync(SignRaw(key, payload));

        Assert.Equal(AuthFailureKind.NoGrants, result.Failure);
    }

    [Fact]
    public async Task PutAndGet_MayBeStringsOrArrays_AndUnknownClaimsAreIgnored()
    {
        var key = JwkKey.Generate("HS256");
        var payload = """{"root":"/demo/","put":"a","get":["b","c/"],"sub":"someone","aud":"x","nbf":99999999999,"cluster":true}""";

        var result = await Verifier(key).VerifyAsync(SignRaw(key, payload));

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal(MoqPath.Parse("demo"), result.Claims!.Root);
        Assert.Equal([MoqPath.Parse("a")], result.Claims.Put);
        Assert.Equal([MoqPath.Parse("b"), MoqPath.Parse("c")], result.Claims.Get);
        Assert.Null(result.Claims.ExpiresAt);
    }

    [Theory]
    [InlineData("""{"put":5}""")]
    [InlineData("""{"put":["a",1]}""")]
    [InlineData("""{"root":["a"],"put":"a"}""")]
    [InlineData("""{"put":"a","exp":"soon"}""")]
    public async Task WronglyTypedClaims_AreMalformed(string payload)
    {
        var key = JwkKey.Generate("HS256");

        var result = await Verifier(key).VerifyAsync(SignRaw(key, payload));

        Assert.Equal(AuthFailureKind.MalformedToken, result.Failure);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("ES256")]
    public async Task SingleKey_IgnoresTheTokenKid(string alg)
    {
        var key = JwkKey.Generate(alg, "relay-key");
        var verifier = Verifier(key);

        Assert.True((await verifier.VerifyAsync(SignRaw(key, TestTokens.Demo().ToJson(), kid: "something-else"))).IsValid);
        Assert.True((await verifier.VerifyAsync(TokenSigner.Sign(JwkKey.Parse(key.ToJson().Replace("relay-key", "x", StringComparison.Ordinal)), TestTokens.Demo()))).IsValid);
    }

    [Fact]
    public async Task KidDirectory_SelectsTheKeyByKid()
    {
        using var dir = new TestTokens.TempDirectory();
        var alpha = JwkKey.Generate("ES256", "alpha");
        var beta = JwkKey.Generate("HS256", "beta");
        File.WriteAllText(dir.File("alpha.jwk"), alpha.ToPublic().ToJson());
        File.WriteAllText(dir.File("beta.jwk"), Base64Url.EncodeToString(Encoding.UTF8.GetBytes(beta.ToJson())));
        var verifier = new TokenVerifier(KeyRing.Open(dir.Path), _clock);

        Assert.True((await verifier.VerifyAsync(TokenSigner.Sign(alpha, TestTokens.Demo()))).IsValid);
        Assert.True((await verifier.VerifyAsync(TokenSigner.Sign(beta, TestTokens.Demo()))).IsValid);

        // A kid naming the other key, no kid, an unknown kid, a kid that is not a file name.
        var wrongKid = SignRaw(beta, TestTokens.Demo().ToJson(), kid: "alpha");
        Assert.Equal(AuthFailureKind.InvalidSignature, (await verifier.VerifyAsync(wrongKid)).Failure);
        var noKid = TokenSigner.Sign(JwkKey.Generate("HS256"), TestTokens.Demo());
        Assert.Equal(AuthFailureKind.UnknownKey, (await verifier.VerifyAsync(noKid)).Failure);
        var unknown = TokenSigner.Sign(JwkKey.Generate("HS256", "gamma"), TestTokens.Demo());
        Assert.Equal(AuthFailureKind.UnknownKey, (await verifier.VerifyAsync(unknown)).Failure);
        var traversal = SignRaw(beta, TestTokens.Demo().ToJson(), kid: "../beta");
        Assert.Equal(AuthFailureKind.UnknownKey, (await verifier.VerifyAsync(traversal)).Failure);
    }

    [Fact]
    public async Task KidDirectory_PicksUpRotatedKeys()
    {
        using var dir = new TestTokens.TempDirectory();
        var verifier = new TokenVerifier(KeyRing.Open(dir.Path), _clock);
        var key = JwkKey.Generate("ES256", "later");
        var token = TokenSigner.Sign(key, TestTokens.Demo());

        Assert.Equal(AuthFailureKind.UnknownKey, (await verifier.VerifyAsync(token)).Failure);
        File.WriteAllText(dir.File("later.jwk"), key.ToJson());

        Assert.True((await verifier.VerifyAsync(token)).IsValid);
    }

    [Fact]
    public async Task KidDirectory_BrokenOrEdDsaKeyFile_RejectsItsTokensOnly()
    {
        using var dir = new TestTokens.TempDirectory();
        File.WriteAllText(dir.File("ed.jwk"), """{"alg":"EdDSA","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""");
        var verifier = new TokenVerifier(KeyRing.Open(dir.Path), _clock);

        var result = await verifier.VerifyAsync(SignRaw(JwkKey.Generate("HS256"), TestTokens.Demo().ToJson(), kid: "ed"));

        Assert.Equal(AuthFailureKind.UnknownKey, result.Failure);
        Assert.Contains("EdDSA", result.Detail);
    }

    [Fact]
    public async Task KeyScope_IsEnforcedOnVerify()
    {
        var unscoped = JwkKey.Generate("HS256");
        var scoped = JwkKey.Parse(unscoped.ToJson().TrimEnd().TrimEnd('}') + ""","scope":{"root":"demo","put":"live"}}""");
        var verifier = Verifier(scoped);

        var within = TokenSigner.Sign(unscoped, TestTokens.Claims("demo", ["live/room"]));
        var outside = TokenSigner.Sign(unscoped, TestTokens.Claims("demo", ["other"]));
        var subscribing = TokenSigner.Sign(unscoped, TestTokens.Claims("demo", ["live"], ["live"]));

        Assert.True((await verifier.VerifyAsync(within)).IsValid);
        Assert.Equal(AuthFailureKind.ScopeExceeded, (await verifier.VerifyAsync(outside)).Failure);
        Assert.Equal(AuthFailureKind.ScopeExceeded, (await verifier.VerifyAsync(subscribing)).Failure);
        Assert.Throws<InvalidOperationException>(() => TokenSigner.Sign(scoped, TestTokens.Claims("demo", ["other"])));
    }

    [Fact]
    public void Signer_RefusesTokensGrantingNothing_AndVerifyOnlyKeys()
    {
        Assert.Throws<InvalidOperationException>(() => TokenSigner.Sign(JwkKey.Generate("HS256"), TestTokens.Claims("demo")));
        Assert.Throws<InvalidOperationException>(() => TokenSigner.Sign(JwkKey.Generate("ES256").ToPublic(), TestTokens.Demo()));
    }

    [Fact]
    public void SignedTokens_CarryTheKeyIdAndAlgorithm()
    {
        var token = new JsonWebToken(TokenSigner.Sign(JwkKey.Generate("ES384", "k-7"), TestTokens.Demo()));

        Assert.Equal("ES384", token.Alg);
        Assert.Equal("k-7", token.Kid);
    }
}
