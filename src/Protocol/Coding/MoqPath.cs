namespace MoqCluster.Protocol.Coding;

/// <summary>
/// A normalised broadcast path or prefix: no leading or trailing <c>/</c>, no empty segments
/// (spec §5.2). Prefix matching is per segment: <c>demo</c> is a prefix of <c>demo/clock</c>
/// but not of <c>democlock</c>.
/// </summary>
public readonly struct MoqPath : IEquatable<MoqPath>, IComparable<MoqPath>
{
    private readonly string? _value;

    private MoqPath(string value) => _value = value;

    /// <summary>The empty path: the root, a prefix of everything.</summary>
    public static MoqPath Empty => default;

    /// <summary>The normalised text.</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>True for the root path.</summary>
    public bool IsEmpty => Value.Length == 0;

    /// <summary>Number of <c>/</c>-separated segments (0 for the root).</summary>
    public int SegmentCount
    {
        get
        {
            if (IsEmpty)
                return 0;
            var count = 1;
            foreach (var c in Value)
                if (c == '/')
                    count++;
            return count;
        }
    }

    /// <summary>Normalises <paramref name="text"/>: trims slashes and collapses repeated ones.</summary>
    public static MoqPath Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return Empty;
        if (IsNormal(text))
            return new MoqPath(text);
        return new MoqPath(string.Join('/', text.Split('/', StringSplitOptions.RemoveEmptyEntries)));
    }

    private static bool IsNormal(string text)
    {
        if (text[0] == '/' || text[^1] == '/')
            return false;
        return !text.Contains("//", StringComparison.Ordinal);
    }

    /// <summary>True when <paramref name="prefix"/> is a segment prefix of this path.</summary>
    public bool HasPrefix(MoqPath prefix)
    {
        if (prefix.IsEmpty)
            return true;
        var value = Value;
        var p = prefix.Value;
        if (!value.StartsWith(p, StringComparison.Ordinal))
            return false;
        return value.Length == p.Length || value[p.Length] == '/';
    }

    /// <summary>Removes <paramref name="prefix"/> and the following <c>/</c>; null when it is not a prefix.</summary>
    public MoqPath? StripPrefix(MoqPath prefix)
    {
        if (!HasPrefix(prefix))
            return null;
        if (prefix.IsEmpty)
            return this;
        var value = Value;
        return value.Length == prefix.Value.Length ? Empty : new MoqPath(value[(prefix.Value.Length + 1)..]);
    }

    /// <summary>Joins two paths: <c>b</c> if <c>a</c> is empty, <c>a</c> if <c>b</c> is empty, else <c>a/b</c>.</summary>
    public MoqPath Join(MoqPath suffix)
    {
        if (IsEmpty)
            return suffix;
        if (suffix.IsEmpty)
            return this;
        return new MoqPath(Value + "/" + suffix.Value);
    }

    /// <summary>Joins a raw (not yet normalised) suffix.</summary>
    public MoqPath Join(string suffix) => Join(Parse(suffix));

    /// <summary>True when either path is a segment prefix of the other.</summary>
    public bool Overlaps(MoqPath other) => HasPrefix(other) || other.HasPrefix(this);

    /// <inheritdoc />
    public bool Equals(MoqPath other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MoqPath other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <inheritdoc />
    public int CompareTo(MoqPath other) => string.CompareOrdinal(Value, other.Value);

    /// <inheritdoc />
    public override string ToString() => Value;

    /// <summary>Equality.</summary>
    public static bool operator ==(MoqPath a, MoqPath b) => a.Equals(b);

    /// <summary>Inequality.</summary>
    public static bool operator !=(MoqPath a, MoqPath b) => !a.Equals(b);

    /// <summary>Normalising conversion from text.</summary>
    public static implicit operator MoqPath(string text) => Parse(text);
}
