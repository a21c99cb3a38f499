using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace MoqCluster.Edge.Ops.Tests;

/// <summary>Sums the measurements of one meter's instruments, in total and per tag value.</summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();

    public MetricRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            foreach (var tag in tags)
                _sums.AddOrUpdate($"{instrument.Name}|{tag.Key}={tag.Value}", value, (_, sum) => sum + value);
        });
        _listener.Start();
    }

    /// <summary>The sum of every measurement of <paramref name="instrument"/> (optionally only with <paramref name="tag"/>=<paramref name="value"/>).</summary>
    public long Sum(string instrument, string? tag = null, string? value = null)
        => _sums.GetValueOrDefault(tag is null ? instrument : $"{instrument}|{tag}={value}");

    public void Dispose() => _listener.Dispose();
}
