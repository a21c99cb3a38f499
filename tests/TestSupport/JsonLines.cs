using System.Text.Json;

namespace MoqCluster.TestSupport;

/// <summary>Parsing of the JSON-lines output the interop scripts print on stdout.</summary>
public static class JsonLines
{
    /// <summary>Parse every line that is a JSON object; other lines are skipped.</summary>
    /// <param name="lines">Raw stdout lines.</param>
    /// <returns>Detached (cloned) JSON objects, in order.</returns>
    public static IReadOnlyList<JsonElement> Parse(IEnumerable<string> lines)
    {
        var events = new List<JsonElement>();
        foreach (var line in lines)
        {
            if (TryParse(line, out var element))
            {
                events.Add(element);
            }
        }

        return events;
    }

    /// <summary>Parse one line if it is a JSON object.</summary>
    /// <param name="line">A stdout line.</param>
    /// <param name="element">The detached object when the line is one.</param>
    public static bool TryParse(string line, out JsonElement element)
    {
        element = default;
        var trimmed = line.AsSpan().Trim();
        if (trimmed.Length == 0 || trimmed[0] != '{')
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            element = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The value of the <c>event</c> property, or null.</summary>
    /// <param name="element">A parsed line.</param>
    public static string? EventName(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty("event", out var name)
        && name.ValueKind == JsonValueKind.String
            ? name.GetString()
            : null;
}
