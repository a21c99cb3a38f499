using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace MoqCluster.Edge.Auth;

/// <summary>
/// One key in moq-token's JWK format (spec §6.2): <c>alg</c>, <c>kty</c> (default <c>oct</c>), the key material,
/// optional <c>kid</c>, <c>key_ops</c> (default sign and verify) and <c>scope</c>. Files may hold the JSON itself
/// or, in the legacy format moq-token writes, base64url(JSON) without padding.
/// </summary>
/// <remarks>EdDSA (<c>OKP</c>/Ed25519) keys are refused with a <see cref="KeyLoadException"/>: Microsoft.IdentityModel has no EdDSA.</remarks>
public sealed partial class JwkKey
{
    private readonly byte[]? _secret;
    private readonly ECParameters? _ec;
    private readonly RSAParameters? _rsa;
    private readonly Lazy<SecurityKey> _securityKey;

    private JwkKey(TokenAlgorithm algorithm, string? kid, bool canSign, bool canVerify, KeyScope? scope,
        byte[]? secret, ECParameters? ec, RSAParameters? rsa)
    {
        Algorithm = algorithm;
        Kid = kid;
        CanSign = canSign;
        CanVerify = canVerify;
        Scope = scope;
        _secret = secret;
        _ec = ec;
        _rsa = rsa;
        _securityKey = new Lazy<SecurityKey>(CreateSecurityKey);
    }

    /// <summary>The one algorithm this key signs and verifies with.</summary>
    public TokenAlgorithm Algorithm { get; }

    /// <summary>The key id (<c>kid</c>), written into the header of tokens this key signs.</summary>
    public string? Kid { get; }

    /// <summary>True when <c>key_ops</c> allows <c>sign</c>.</summary>
    public bool CanSign { get; }

    /// <summary>True when <c>key_ops</c> allows <c>verify</c>.</summary>
    public bool CanVerify { get; }

    /// <summary>The ceiling on what tokens signed by this key may grant; null = unrestricted.</summary>
    public KeyScope? Scope { get; }

    /// <summary>True when the key holds private (or shared secret) material, i.e. it can actually sign.</summary>
    public bool HasPrivateMaterial => _secret is not null || _ec?.D is not null || _rsa?.D is not null;

    /// <summary>The IdentityModel key for <see cref="Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler"/>.</summary>
    public SecurityKey SecurityKey => _securityKey.Value;

    /// <summary>Reads a key from JWK JSON or legacy base64url(JSON).</summary>
    /// <exception cref="KeyLoadException">Anything wrong with the key, including an EdDSA key.</exception>
    public static JwkKey Parse(string text)
    {
        var trimmed = text.Trim();
        string json;
        if (trimmed.StartsWith('{'))
        {
            json = trimmed;
        }
        else
        {
            try
            {
                json = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(trimmed));
            }
            catch (FormatException ex)
            {
                throw new KeyLoadException("key is neither JWK JSON nor base64url-encoded JWK JSON", ex);
            }
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return FromJson(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw new KeyLoadException("key is not valid JSON", ex);
        }
    }

    /// <summary>Reads a key file (JWK JSON or legacy base64url).</summary>
    /// <exception cref="KeyLoadException">The file is missing or unreadable, or the key is invalid; the message names the file.</exception>
    public static JwkKey Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KeyLoadException($"cannot read key file {path}: {ex.Message}", ex);
        }
        try
        {
            return Parse(text);
        }
        catch (KeyLoadException ex)
        {
            throw new KeyLoadException($"key file {path}: {ex.Message}", ex);
        }
    }

    private static JwkKey FromJson(JsonElement jwk)
    {
        if (jwk.ValueKind != JsonValueKind.Object)
            throw new KeyLoadException("a JWK must be a JSON object");
        var algorithm = TokenAlgorithm.Find(OptionalString(jwk, "alg") ?? throw new KeyLoadException("JWK has no 'alg'"));
        var kty = OptionalString(jwk, "kty") ?? "oct";
        var keyType = kty switch
        {
            "oct" => JwkKeyType.Oct,
            "EC" => JwkKeyType.EC,
            "RSA" => JwkKeyType.Rsa,
            "OKP" => throw new KeyLoadException(TokenAlgorithm.EdDsaUnsupported),
            _ => throw new KeyLoadException($"unsupported JWK kty '{kty}'"),
        };
        if (keyType != algorithm.KeyType)
            throw new KeyLoadException($"alg {algorithm.Name} does not fit kty '{kty}'");

        var (canSign, canVerify) = ReadOperations(jwk);
        var kid = OptionalString(jwk, "kid");
        var scope = jwk.TryGetProperty("scope", out var s) && s.ValueKind != JsonValueKind.Null ? KeyScope.Parse(s) : null;

        switch (keyType)
        {
            case JwkKeyType.Oct:
                var secret = RequiredBytes(jwk, "k");
                if (secret.Length < TokenAlgorithm.MinimumSecretBytes)
                    throw new KeyLoadException($"oct key 'k' has {secret.Length} bytes; at least {TokenAlgorithm.MinimumSecretBytes} are required");
                return new JwkKey(algorithm, kid, canSign, canVerify, scope, secret, null, null);
            case JwkKeyType.EC:
                var crv = OptionalString(jwk, "crv");
                if (crv != algorithm.Curve)
                    throw new KeyLoadException($"alg {algorithm.Name} needs crv {algorithm.Curve}, not '{crv}'");
                var ec = new ECParameters
                {
                    Curve = crv == "P-256" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384,
                    Q = new ECPoint { X = RequiredBytes(jwk, "x"), Y = RequiredBytes(jwk, "y") },
                    D = OptionalBytes(jwk, "d"),
                };
                if (ec.Q.X!.Length != algorithm.Bytes || ec.Q.Y!.Length != algorithm.Bytes || ec.D is { } d && d.Length != algorithm.Bytes)
                    throw new KeyLoadException($"{crv} coordinates must be {algorithm.Bytes} bytes");
                Validate(() => { using var e = ECDsa.Create(ec); });
                return new JwkKey(algorithm, kid, canSign, canVerify, scope, null, ec, null);
            default:
                var rsa = new RSAParameters { Modulus = RequiredBytes(jwk, "n"), Exponent = RequiredBytes(jwk, "e") };
                if (OptionalBytes(jwk, "d") is { } privateExponent)
                {
                    rsa.D = privateExponent;
                    rsa.P = RequiredBytes(jwk, "p");
                    rsa.Q = RequiredBytes(jwk, "q");
                    rsa.DP = RequiredBytes(jwk, "dp");
                    rsa.DQ = RequiredBytes(jwk, "dq");
                    rsa.InverseQ = RequiredBytes(jwk, "qi");
                }
                Validate(() => { using var r = RSA.Create(rsa); });
                return new JwkKey(algorithm, kid, canSign, canVerify, scope, null, null, rsa);
        }
    }

    private static void Validate(Action import)
    {
        try
        {
            import();
        }
        catch (CryptographicException ex)
        {
            throw new KeyLoadException($"invalid key material: {ex.Message}", ex);
        }
    }

    private static (bool Sign, bool Verify) ReadOperations(JsonElement jwk)
    {
        if (!jwk.TryGetProperty("key_ops", out var ops) || ops.ValueKind == JsonValueKind.Null)
            return (true, true);
        if (ops.ValueKind != JsonValueKind.Array)
            throw new KeyLoadException("'key_ops' must be an array");
        bool sign = false, verify = false;
        foreach (var op in ops.EnumerateArray())
        {
            var name = op.ValueKind == JsonValueKind.String ? op.GetString() : null;
            sign |= name == "sign";
            verify |= name == "verify";
        }
        return (sign, verify);
    }

    private static string? OptionalString(JsonElement jwk, string name)
    {
        if (!jwk.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new KeyLoadException($"JWK '{name}' must be a string");
    }

    private static byte[]? OptionalBytes(JsonElement jwk, string name)
    {
        if (OptionalString(jwk, name) is not { } text)
            return null;
        try
        {
            return Base64Url.DecodeFromChars(text.TrimEnd('='));
        }
        catch (FormatException ex)
        {
            throw new KeyLoadException($"JWK '{name}' is not base64url", ex);
        }
    }

    private static byte[] RequiredBytes(JsonElement jwk, string name)
        => OptionalBytes(jwk, name) ?? throw new KeyLoadException($"JWK has no '{name}'");

    private SecurityKey CreateSecurityKey()
    {
        SecurityKey key;
        if (_secret is not null)
            key = new SymmetricSecurityKey(_secret);
        else if (_ec is { } ec)
            key = new ECDsaSecurityKey(ECDsa.Create(ec));
        else
            key = new RsaSecurityKey(RSA.Create(_rsa!.Value));
        if (Kid is not null)
            key.KeyId = Kid;
        return key;
    }

    /// <summary>A verify-only copy without private material (for the relay), for EC and RSA keys.</summary>
    /// <exception cref="InvalidOperationException">A shared-secret (<c>oct</c>) key has no public half.</exception>
    public JwkKey ToPublic()
    {
        if (_secret is not null)
            throw new InvalidOperationException("an oct (HMAC) key has no public half; the relay needs the secret itself");
        var ec = _ec is { } e ? new ECParameters { Curve = e.Curve, Q = e.Q } : (ECParameters?)null;
        var rsa = _rsa is { } r ? new RSAParameters { Modulus = r.Modulus, Exponent = r.Exponent } : (RSAParameters?)null;
        return new JwkKey(Algorithm, Kid, canSign: false, canVerify: true, Scope, null, ec, rsa);
    }

    /// <summary>The key as JWK JSON (including private material when present).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", Algorithm.Name);
            writer.WriteStartArray("key_ops");
            if (CanSign)
                writer.WriteStringValue("sign");
            if (CanVerify)
                writer.WriteStringValue("verify");
            writer.WriteEndArray();
            if (_secret is not null)
            {
                writer.WriteString("kty", "oct");
                WriteBytes(writer, "k", _secret);
            }
            else if (_ec is { } ec)
            {
                writer.WriteString("kty", "EC");
                writer.WriteString("crv", Algorithm.Curve);
                WriteBytes(writer, "x", ec.Q.X);
                WriteBytes(writer, "y", ec.Q.Y);
                WriteBytes(writer, "d", ec.D);
            }
            else if (_rsa is { } rsa)
            {
                writer.WriteString("kty", "RSA");
                WriteBytes(writer, "n", rsa.Modulus);
                WriteBytes(writer, "e", rsa.Exponent);
                WriteBytes(writer, "d", rsa.D);
                WriteBytes(writer, "p", rsa.P);
                WriteBytes(writer, "q", rsa.Q);
                WriteBytes(writer, "dp", rsa.DP);
                WriteBytes(writer, "dq", rsa.DQ);
                WriteBytes(writer, "qi", rsa.InverseQ);
            }
            if (Kid is not null)
                writer.WriteString("kid", Kid);
            if (Scope is not null)
            {
                writer.WritePropertyName("scope");
                Scope.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteBytes(Utf8JsonWriter writer, string name, byte[]? bytes)
    {
        if (bytes is not null)
            writer.WriteString(name, Base64Url.EncodeToString(bytes));
    }
}
