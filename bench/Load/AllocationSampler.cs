using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace MoqCluster.Bench.Load;

/// <summary>
/// <c>--alloc-types</c>: the runtime's allocation-tick events (one per ~100 KB allocated, naming the type that
/// crossed the threshold) counted by type, to find what the generator allocates per frame. Diagnostic only.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _on;

    /// <summary>Starts counting.</summary>
    public void Start() => _on = true;

    /// <summary>Stops counting.</summary>
    public void Stop() => _on = false;

    /// <inheritdoc/>
    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: GCAllocationTick
    }

    /// <inheritdoc/>
    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
            return;
        var type = e.PayloadNames?.IndexOf("TypeName") is { } t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames?.IndexOf("AllocationAmount64") is { } a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    /// <summary>The top types by sampled bytes.</summary>
    public string Describe(int top = 15) => string.Join("\n", _bytes.OrderByDescending(kv => kv.Value).Take(top).Select(kv => $"  {kv.Value / 1e6,8:F1} MB  {kv.Key}"));
}
