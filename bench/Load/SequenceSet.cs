using System.Numerics;

namespace MoqCluster.Bench.Load;

/// <summary>
/// The set of sequence numbers received on one subscription as a growable bitmap starting at the first
/// one seen (sequences are dense, so one bit each). Lets a span be checked for holes after late arrivals.
/// Not thread-safe.
/// </summary>
internal sealed class SequenceSet
{
    private readonly List<ulong> _words = [];
    private long _base = -1;

    /// <summary>Adds <paramref name="sequence"/>; sequences below the first one seen are ignored.</summary>
    public void Add(long sequence)
    {
        if (_base < 0)
            _base = sequence;
        var offset = sequence - _base;
        if (offset < 0)
            return;
        var word = (int)(offset >> 6);
        while (_words.Count <= word)
            _words.Add(0);
        _words[word] |= 1UL << (int)(offset & 63);
    }

    /// <summary>How many of the sequences in [<paramref name="first"/>, <paramref name="last"/>] are present.</summary>
    public long CountIn(long first, long last)
    {
        long count = 0;
        for (var s = Math.Max(first, _base); s <= last && _base >= 0; s++)
        {
            var offset = s - _base;
            var word = (int)(offset >> 6);
            if (word >= _words.Count)
                break;
            if ((offset & 63) == 0 && s + 63 <= last)
            {
                count += BitOperations.PopCount(_words[word]);
                s += 63;
                continue;
            }
            if ((_words[word] & (1UL << (int)(offset & 63))) != 0)
                count++;
        }
        return count;
    }
}
