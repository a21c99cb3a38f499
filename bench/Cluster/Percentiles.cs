namespace MoqCluster.Bench.Cluster;

/// <summary>Nearest-rank percentiles of a set of millisecond samples.</summary>
internal sealed class Percentiles(IEnumerable<double> samples)
{
    private readonly double[] _sorted = [.. samples.Order()];

    /// <summary>Number of samples.</summary>
    public int Count => _sorted.Length;

    /// <summary>The <paramref name="p"/>-th percentile (0..100).</summary>
    public double At(double p) => _sorted.Length == 0 ? double.NaN : _sorted[Math.Clamp((int)Math.Ceiling(p / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];

    /// <summary>One report line.</summary>
    public string Line(string name) =>
        $"| {name} | {Count} | {At(50):F2} | {At(90):F2} | {At(99):F2} | {(_sorted.Length == 0 ? double.NaN : _sorted[^1]):F2} |";
}
