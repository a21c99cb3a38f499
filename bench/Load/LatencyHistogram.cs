using System.Numerics;

namespace MoqCluster.Bench.Load;

/// <summary>
/// Log-linear histogram of nanosecond values (HdrHistogram-like): exact below 64 ns, then 32 buckets per
/// power of two, so any percentile is within about 3% of the true value. Not thread-safe; give each
/// subscriber its own and <see cref="Add"/> them at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 5;
    private const int SubCount = 1 << SubBits;
    private const int BucketCount = (64 - SubBits) * SubCount + SubCount;

    private readonly long[] _counts = new long[BucketCount];

    /// <summary>Number of recorded values.</summary>
    public long Count { get; private set; }

    /// <summary>Records one value; negative values count as zero.</summary>
    public void Record(long nanoseconds)
    {
        _counts[IndexOf(Math.Max(0, nanoseconds))]++;
        Count++;
    }

    /// <summary>Adds every count of <paramref name="other"/> to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++)
            _counts[i] += other._counts[i];
        Count += other.Count;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1) in nanoseconds; null when empty.</summary>
    public double? Quantile(double q)
    {
        if (Count == 0)
            return null;
        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return MidpointOf(i);
        }
        return MidpointOf(BucketCount - 1);
    }

    private static int IndexOf(long value)
    {
        if (value < 2 * SubCount)
            return (int)value;
        var msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = msb - SubBits;
        return shift * SubCount + (int)(value >> shift);
    }

    private static double MidpointOf(int index)
    {
        if (index < 2 * SubCount)
            return index;
        var shift = index / SubCount - 1;
        var top = (long)(index % SubCount + SubCount);
        var lower = top << shift;
        var upper = ((top + 1) << shift) - 1;
        return (lower + upper) / 2.0;
    }
}
