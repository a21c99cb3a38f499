using System.Text.Json;

namespace MoqCluster.TestSupport;

/// <summary>The outcome of one interop script run: exit status, the JSON events it printed, and its summary.</summary>
public sealed class NodeRunResult
{
    /// <summary>Wraps a finished process.</summary>
    /// <param name="script">The script name, for messages.</param>
    /// <param name="process">The finished process.</param>
    public NodeRunResult(string script, ProcessResult process)
    {
        Script = script;
        Process = process;
        Events = JsonLines.Parse(process.StdoutLines);
        var summary = Events.LastOrDefault(e => JsonLines.EventName(e) == "summary");
        Summary = summary.ValueKind == JsonValueKind.Object ? summary : null;
    }

    /// <summary>The script that ran (e.g. <c>sub.mjs</c>).</summary>
    public string Script { get; }

    /// <summary>The raw process outcome (exit code, stdout lines, stderr).</summary>
    public ProcessResult Process { get; }

    /// <summary>The exit code (-1 when killed at the deadline).</summary>
    public int ExitCode => Process.ExitCode;

    /// <summary>True when the deadline passed and the process tree was killed.</summary>
    public bool TimedOut => Process.TimedOut;

    /// <summary>Every JSON object printed on stdout, in order.</summary>
    public IReadOnlyList<JsonElement> Events { get; }

    /// <summary>The final <c>{"event":"summary"}</c> object, if the script got that far.</summary>
    public JsonElement? Summary { get; }

    /// <summary>Exit code 0, not timed out, and a summary with <c>"ok": true</c>.</summary>
    public bool Ok => Process.Succeeded && Summary is { } s && s.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True;

    /// <summary>All events with the given <c>event</c> name.</summary>
    /// <param name="name">Event name, e.g. <c>group</c>.</param>
    public IEnumerable<JsonElement> EventsNamed(string name) => Events.Where(e => JsonLines.EventName(e) == name);

    /// <summary>An integer property of the summary.</summary>
    /// <param name="property">Property name, e.g. <c>frames</c>.</param>
    /// <exception cref="InvalidOperationException">No summary, or the property is missing or not an integer.</exception>
    public long SummaryInt(string property) =>
        SummaryProperty(property) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt64(out var n)
            ? n
            : throw new InvalidOperationException($"{Script}: summary has no integer '{property}'\n{Describe()}");

    /// <summary>A string property of the summary, or null when absent.</summary>
    /// <param name="property">Property name, e.g. <c>version</c>.</param>
    public string? SummaryString(string property) =>
        SummaryProperty(property) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    /// <summary>The summary's <c>errors</c> array as strings (empty when absent).</summary>
    public IReadOnlyList<string> SummaryErrors =>
        SummaryProperty("errors") is { ValueKind: JsonValueKind.Array } a
            ? [.. a.EnumerateArray().Select(e => e.ToString())]
            : [];

    /// <summary>Script name, exit status, summary and output tails, for assertion messages.</summary>
    public string Describe() =>
        $"{Script}: {(Summary is { } s ? s.GetRawText() : "(no summary)")}\n{Process.Describe()}";

    /// <inheritdoc />
    public override string ToString() => Describe();

    private JsonElement? SummaryProperty(string property) =>
        Summary is { } s && s.TryGetProperty(property, out var v) ? v : null;
}
