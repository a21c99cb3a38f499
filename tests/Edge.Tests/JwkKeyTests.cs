using System.Buffers.Text;
using System.Text;
using MoqCluster.Edge.Auth;

namespace MoqCluster.Edge.Tests;

/// <summary>Reading, writing and generating JWKs in moq-token's format.</summary>
public sealed class JwkKeyTests
{
    /// <summary>moq-token's own backwards-compatibility vector: an oct key without <c>kty</c>.</summary>
    private const string LegacyOct = """{"alg":"HS256","key_ops":["sign","verify"],"k":"Fp8kipWUJeUFqeSqWym_tRC_tyI8z-QpqopIGrbrD68"}""";

    [Fact]
    public void MissingKty_DefaultsToOct()
    {
        var key = JwkKey.Parse(LegacyOct);

        Assert.Equal("HS256", key.Algorithm.Name);
        Assert.Equal(JwkKeyType.Oct, key.Algorithm.KeyType);
        Assert.True(key.CanSign && key.CanVerify);
        Assert.True(key.HasPrivateMaterial);
    }

    [Fact]
    public void LegacyBase64UrlFile_IsRead()
    {
        using var dir = new TestTokens.TempDirectory();
        var file = dir.File("legacy.jwk");
        File.WriteAllText(file, Base64Url.EncodeToString(Encoding.UTF8.GetBytes(LegacyOct)));

        var key = JwkKey.Load(file);

        Assert.Equal("HS256", key.Algorithm.Name);
        Assert.Equal(JwkKey.Parse(LegacyOct).ToJson(), key.ToJson());
    }

    [Theory]
    [InlineData("""{"alg":"EdDSA","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""")]
    [InlineData("""{"alg":"ES256","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""")]
    public void EdDsaKey_FailsWithAClearMessage(string jwk)
    {
        var error = Assert.Throws<KeyLoadException>(() => JwkKey.Parse(jwk));

        Assert.Contains("EdDSA", error.Message);
        Assert.Contains("not supported", error.Message);
    }

    [Fact]
    public void GeneratingEdDsa_FailsWithAClearMessage()
        => Assert.Contains("EdDSA", Assert.Throws<KeyLoadException>(() => JwkKey.Generate("EdDSA")).Message);

    [Fact]
    public void ShortHmacSecret_IsRefused()
    {
        var jwk = $$"""{"alg":"HS256","kty":"oct","k":"{{Base64Url.EncodeToString(new byte[16])}}"}""";

        Assert.Contains("32", Assert.Throws<KeyLoadException>(() => JwkKey.Parse(jwk)).Message);
    }

    [Theory]
    [InlineData("""{"kty":"oct","k":"Fp8kipWUJeUFqeSqWym_tRC_tyI8z-QpqopIGrbrD68"}""", "alg")]
    [InlineData("""{"alg":"HS999","k":"Fp8kipWUJeUFqeSqWym_tRC_tyI8z-QpqopIGrbrD68"}""", "HS999")]
    [InlineData("""{"alg":"RS256","kty":"oct","k":"Fp8kipWUJeUFqeSqWym_tRC_tyI8z-QpqopIGrbrD68"}""", "kty")]
    [InlineData("not a key", "base64url")]
    [InlineData("[1,2]", "JSON")]
    public void BadKeys_AreRefused(string text, string mention)
        => Assert.Contains(mention, Assert.Throws<KeyLoadException>(() => JwkKey.Parse(text)).Message);

    [Fact]
    public void EcCurveMustMatchTheAlgorithm()
    {
        var p384 = JwkKey.Generate("ES384").ToJson().Replace("\"ES384\"", "\"ES256\"", StringComparison.Ordinal);

        Assert.Contains("P-256", Assert.Throws<KeyLoadException>(() => JwkKey.Parse(p384)).Message);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS512")]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("RS256")]
    [InlineData("PS384")]
    public void GeneratedKeys_RoundTripThroughJson(string alg)
    {
        var scope = new KeyScope("demo", ["live"], [""]);
        var key = JwkKey.Generate(alg, "k1", scope);

        var again = JwkKey.Parse(key.ToJson());

        Assert.Equal(key.ToJson(), again.ToJson());
        Assert.Equal("k1", again.Kid);
        Assert.Equal(alg, again.Algorithm.Name);
        Assert.NotNull(again.Scope);
        Assert.True(again.Scope!.Allows(TestTokens.Claims("demo/live", [""], [])));
    }

    [Fact]
    public void PublicHalf_CanOnlyVerify()
    {
        var key = JwkKey.Generate("ES256", "k1");

        var pub = JwkKey.Parse(key.ToPublic().ToJson());

        Assert.False(pub.CanSign);
        Assert.True(pub.CanVerify);
        Assert.False(pub.HasPrivateMaterial);
        Assert.DoesNotContain("\"d\"", pub.ToJson());
        Assert.Throws<InvalidOperationException>(() => JwkKey.Generate("HS256").ToPublic());
    }

    [Fact]
    public void KeyOps_Restrict()
    {
        var signOnly = JwkKey.Parse(LegacyOct.Replace("\"sign\",\"verify\"", "\"sign\"", StringComparison.Ordinal));

        Assert.True(signOnly.CanSign);
        Assert.False(signOnly.CanVerify);
        Assert.Throws<KeyLoadException>(() => KeyRing.Single(signOnly));
    }

    [Fact]
    public void UselessScope_IsRefused()
    {
        var jwk = LegacyOct.Replace("}", ""","scope":{"root":"demo"}}""", StringComparison.Ordinal);

        Assert.Contains("scope", Assert.Throws<KeyLoadException>(() => JwkKey.Parse(jwk)).Message);
    }
}
