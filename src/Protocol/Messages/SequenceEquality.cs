namespace MoqCluster.Protocol.Messages;

/// <summary>
/// Value equality for the list fields of message records: the compiler-generated record equality
/// compares lists by reference, which would make decoded copies of the same message unequal.
/// </summary>
internal static class SequenceEquality
{
    public static bool Equal<T>(IReadOnlyList<T> a, IReadOnlyList<T> b)
    {
        if (ReferenceEquals(a, b))
            return true;
        if (a.Count != b.Count)
            return false;
        var comparer = EqualityComparer<T>.Default;
        for (var i = 0; i < a.Count; i++)
            if (!comparer.Equals(a[i], b[i]))
                return false;
        return true;
    }

    public static int Hash<T>(IReadOnlyList<T> items)
    {
        var hash = new HashCode();
        hash.Add(items.Count);
        foreach (var item in items)
            hash.Add(item);
        return hash.ToHashCode();
    }

    /// <summary>A list pre-sized by a peer's claimed count, but never larger than the bytes left could fill.</summary>
    public static List<T> BoundedList<T>(int claimedCount, int remainingBytes, int minBytesPerItem = 1)
        => new(Math.Min(claimedCount, remainingBytes / Math.Max(minBytesPerItem, 1)));
}
