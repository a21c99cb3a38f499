using System.Globalization;
using System.Text.RegularExpressions;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Auth.Cli;

/// <summary>
/// <c>MoqCluster.Edge token …</c>: make keys and sign tokens compatible with moq-relay (and this relay).
/// <list type="bullet">
/// <item><c>token generate --alg ES256 --out key.jwk [--kid ID] [--public pub.jwk] [--scope-root R] [--scope-put P]… [--scope-get G]…</c></item>
/// <item><c>token sign --key key.jwk [--root R] [--put P]… [--get G]… [--expires 1h]</c> prints the token.</item>
/// </list>
/// </summary>
public static partial class TokenCommand
{
    private const string Usage = """
        usage:
          token generate --alg ALG --out FILE [--kid ID] [--public FILE] [--scope-root R] [--scope-put P]... [--scope-get G]...
              ALG: HS256 HS384 HS512 ES256 ES384 RS256 RS384 RS512 PS256 PS384 PS512 (EdDSA is not supported)
              --public writes the verify-only half (EC/RSA) for the relay's --Auth:Key
          token sign --key FILE [--root R] [--put P]... [--get G]... [--expires DURATION]
              prints the token; --put/--get may repeat, "" = everything under root; DURATION like 90s, 30m, 1h, 7d
        """;

    /// <summary>Runs the command in <paramref name="args"/> (the arguments after <c>token</c>).</summary>
    /// <returns>0 on success, 1 on failure, 2 on bad usage.</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        try
        {
            switch (args.Count > 0 ? args[0] : null)
            {
                case "generate":
                    return Generate(CommandLineOptions.Parse(args.Skip(1).ToList(),
                        new HashSet<string> { "alg", "out", "kid", "public", "scope-root", "scope-put", "scope-get" },
                        new HashSet<string> { "scope-put", "scope-get" }), output);
                case "sign":
                    return Sign(CommandLineOptions.Parse(args.Skip(1).ToList(),
                        new HashSet<string> { "key", "root", "put", "get", "expires" },
                        new HashSet<string> { "put", "get" }), output);
                case "help" or "--help" or "-h":
                    output.WriteLine(Usage);
                    return 0;
                default:
                    error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (FormatException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            error.WriteLine(Usage);
            return 2;
        }
        catch (Exception ex) when (ex is KeyLoadException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    private static int Generate(CommandLineOptions options, TextWriter output)
    {
        var alg = options.Required("alg");
        var outFile = options.Required("out");
        var scopePut = options.Values("scope-put").Select(MoqPath.Parse).ToList();
        var scopeGet = options.Values("scope-get").Select(MoqPath.Parse).ToList();
        KeyScope? scope = null;
        if (scopePut.Count > 0 || scopeGet.Count > 0)
            scope = new KeyScope(MoqPath.Parse(options.Value("scope-root")), scopePut, scopeGet);
        else if (options.Value("scope-root") is not null)
            throw new FormatException("--scope-root needs --scope-put or --scope-get");

        var key = JwkKey.Generate(alg, options.Value("kid"), scope);
        File.WriteAllText(outFile, key.ToJson() + "\n");
        output.WriteLine($"wrote {key.Algorithm.Name} key to {outFile}");
        if (options.Value("public") is { } publicFile)
        {
            File.WriteAllText(publicFile, key.ToPublic().ToJson() + "\n");
            output.WriteLine($"wrote verify-only key to {publicFile}");
        }
        return 0;
    }

    private static int Sign(CommandLineOptions options, TextWriter output)
    {
        var key = JwkKey.Load(options.Required("key"));
        var now = DateTimeOffset.UtcNow;
        var claims = new TokenClaims
        {
            Root = MoqPath.Parse(options.Value("root")),
            Put = options.Values("put").Select(MoqPath.Parse).ToList(),
            Get = options.Values("get").Select(MoqPath.Parse).ToList(),
            IssuedAt = now,
            ExpiresAt = options.Value("expires") is { } expires ? now + ParseDuration(expires) : null,
        };
        output.WriteLine(TokenSigner.Sign(key, claims));
        return 0;
    }

    /// <summary>Parses <c>90s</c>, <c>30m</c>, <c>1h</c>, <c>7d</c> or a .NET TimeSpan (<c>01:30:00</c>).</summary>
    /// <exception cref="FormatException">Not a positive duration.</exception>
    public static TimeSpan ParseDuration(string text)
    {
        var match = DurationPattern().Match(text.Trim());
        TimeSpan duration;
        if (match.Success)
        {
            var n = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            duration = match.Groups[2].Value switch
            {
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }
        else if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration))
        {
            throw new FormatException($"'{text}' is not a duration (e.g. 90s, 30m, 1h, 7d)");
        }
        return duration > TimeSpan.Zero ? duration : throw new FormatException($"duration '{text}' must be positive");
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(s|m|h|d)$")]
    private static partial Regex DurationPattern();
}
