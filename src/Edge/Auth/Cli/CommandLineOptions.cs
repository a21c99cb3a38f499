namespace MoqCluster.Edge.Auth.Cli;

/// <summary>
/// <c>--name value</c> / <c>--name=value</c> options of one CLI command. Values may be empty (<c>--get ""</c>);
/// options listed as repeatable collect every occurrence.
/// </summary>
internal sealed class CommandLineOptions
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    private CommandLineOptions() { }

    /// <summary>Parses <paramref name="args"/>, accepting only <paramref name="known"/> option names (without dashes).</summary>
    /// <exception cref="FormatException">An unknown option, a stray argument, a missing value or a repeated single-valued option.</exception>
    public static CommandLineOptions Parse(IReadOnlyList<string> args, IReadOnlySet<string> known, IReadOnlySet<string> repeatable)
    {
        var options = new CommandLineOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new FormatException($"unexpected argument '{arg}'");
            string name, value;
            var eq = arg.IndexOf('=');
            if (eq > 0)
            {
                name = arg[2..eq];
                value = arg[(eq + 1)..];
            }
            else
            {
                name = arg[2..];
                if (i + 1 >= args.Count)
                    throw new FormatException($"--{name} needs a value");
                value = args[++i];
            }
            if (!known.Contains(name))
                throw new FormatException($"unknown option --{name}");
            if (!options._values.TryGetValue(name, out var list))
                options._values[name] = list = [];
            else if (!repeatable.Contains(name))
                throw new FormatException($"--{name} given twice");
            list.Add(value);
        }
        return options;
    }

    /// <summary>The value of a single-valued option, or null.</summary>
    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[0] : null;

    /// <summary>The value of a required option.</summary>
    /// <exception cref="FormatException">The option is missing.</exception>
    public string Required(string name) => Value(name) ?? throw new FormatException($"--{name} is required");

    /// <summary>Every value of a repeatable option (empty when absent).</summary>
    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];
}
