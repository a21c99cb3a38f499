using System.Text;
using System.Text.Json;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Auth;

/// <summary>
/// The payload of a moq-relay token (spec §6.2): a <c>root</c> and the prefixes below it the holder may publish
/// (<c>put</c>) and subscribe to (<c>get</c>), plus optional <c>exp</c>/<c>iat</c>. Unknown claims are ignored.
/// </summary>
public sealed record TokenClaims
{
    /// <summary>Base path the grants are relative to (default: the empty root).</summary>
    public MoqPath Root { get; init; }

    /// <summary>Prefixes (relative to <see cref="Root"/>) the holder may publish under; empty = none.</summary>
    public IReadOnlyList<MoqPath> Put { get; init; } = [];

    /// <summary>Prefixes (relative to <see cref="Root"/>) the holder may subscribe to; empty = none.</summary>
    public IReadOnlyList<MoqPath> Get { get; init; } = [];

    /// <summary>When the token stops being valid (<c>exp</c>); null = never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When the token was issued (<c>iat</c>); informational.</summary>
    public DateTimeOffset? IssuedAt { get; init; }

    /// <summary>True when the token allows neither publishing nor subscribing, which makes it invalid.</summary>
    public bool GrantsNothing => Put.Count == 0 && Get.Count == 0;

    /// <summary>True when <see cref="ExpiresAt"/> lies before <paramref name="now"/>.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } exp && exp < now;

    /// <summary>Reads the claims from a JWT payload (UTF-8 JSON object).</summary>
    /// <exception cref="FormatException">Not a JSON object, or a known claim has the wrong type.</exception>
    public static TokenClaims Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new FormatException("token payload is not JSON", ex);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException("token payload is not a JSON object");
            return new TokenClaims
            {
                Root = MoqPath.Parse(ReadString(root, "root")),
                Put = ReadPrefixes(root, "put"),
                Get = ReadPrefixes(root, "get"),
                ExpiresAt = ReadTime(root, "exp"),
                IssuedAt = ReadTime(root, "iat"),
            };
        }
    }

    /// <summary>Reads the claims from JSON text.</summary>
    /// <exception cref="FormatException">See <see cref="Parse(ReadOnlySpan{byte})"/>.</exception>
    public static TokenClaims Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    /// <summary>The payload JSON as moq-token writes it: empty <c>root</c> and empty lists left out, lists as arrays.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (!Root.IsEmpty)
                writer.WriteString("root", Root.Value);
            WritePrefixes(writer, "put", Put);
            WritePrefixes(writer, "get", Get);
            if (ExpiresAt is { } exp)
                writer.WriteNumber("exp", exp.ToUnixTimeSeconds());
            if (IssuedAt is { } iat)
                writer.WriteNumber("iat", iat.ToUnixTimeSeconds());
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WritePrefixes(Utf8JsonWriter writer, string name, IReadOnlyList<MoqPath> prefixes)
    {
        if (prefixes.Count == 0)
            return;
        writer.WriteStartArray(name);
        foreach (var prefix in prefixes)
            writer.WriteStringValue(prefix.Value);
        writer.WriteEndArray();
    }

    private static string? ReadString(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new FormatException($"claim '{name}' must be a string");
    }

    /// <summary>A string or an array of strings; absent or null = none.</summary>
    private static List<MoqPath> ReadPrefixes(JsonElement obj, string name)
    {
        var result = new List<MoqPath>();
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return result;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                result.Add(MoqPath.Parse(value.GetString()));
                return result;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        throw new FormatException($"claim '{name}' must hold strings");
                    result.Add(MoqPath.Parse(item.GetString()));
                }
                return result;
            default:
                throw new FormatException($"claim '{name}' must be a string or an array of strings");
        }
    }

    /// <summary>A NumericDate (Unix seconds); absent or null = none.</summary>
    private static DateTimeOffset? ReadTime(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.Number)
            throw new FormatException($"claim '{name}' must be a number");
        try
        {
            return value.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : DateTimeOffset.FromUnixTimeMilliseconds(checked((long)(value.GetDouble() * 1000)));
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or OverflowException)
        {
            throw new FormatException($"claim '{name}' is out of range", ex);
        }
    }
}
