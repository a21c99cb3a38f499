using System.Globalization;

namespace MoqCluster.Bench.Load;

/// <summary><c>--name value</c> / <c>--flag</c> arguments after a verb.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/> (the verb excluded).</summary>
    public CommandLine(IEnumerable<string> args)
    {
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                name = arg[2..];
                if (!_values.ContainsKey(name))
                    _values[name] = [];
            }
            else if (name is null)
                throw new ArgumentException($"unexpected argument '{arg}'");
            else
            {
                _values[name].Add(arg);
                name = null;
            }
        }
    }

    /// <summary>The last value of <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public string? Text(string name, string? fallback = null)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) && v.Count > 0 ? v[^1] : fallback;
    }

    /// <summary>Every value given for <paramref name="name"/>.</summary>
    public IReadOnlyList<string> All(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v : [];
    }

    /// <summary>The value of a required option.</summary>
    public string Required(string name) => Text(name) ?? throw new ArgumentException($"--{name} is required");

    /// <summary>A numeric option.</summary>
    public double Number(string name, double fallback) =>
        Text(name) is { } t ? double.Parse(t, CultureInfo.InvariantCulture) : fallback;

    /// <summary>An integer option, null when absent.</summary>
    public int? Integer(string name) => Text(name) is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : null;

    /// <summary>True when the flag is present.</summary>
    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Throws when an option was given that nothing asked for (a typo would otherwise pass silently).</summary>
    public void ThrowIfUnknown()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException("unknown option(s): " + string.Join(", ", unknown.Select(u => "--" + u)));
    }
}
