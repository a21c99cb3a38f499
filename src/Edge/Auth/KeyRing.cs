using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace MoqCluster.Edge.Auth;

/// <summary>
/// The keys tokens are verified with: either one key file (the token's <c>kid</c> is ignored), or a directory of
/// <c>&lt;kid&gt;.jwk</c> files selected by the token header's <c>kid</c> (spec §6.2). Directory keys are read on
/// first use and re-read when their file changes, so keys can be rotated without a restart.
/// </summary>
public sealed partial class KeyRing
{
    private readonly JwkKey? _single;
    private readonly string? _directory;
    private readonly ConcurrentDictionary<string, (DateTime Stamp, JwkKey? Key, string? Error)> _cache = new(StringComparer.Ordinal);

    private KeyRing(JwkKey? single, string? directory)
    {
        _single = single;
        _directory = directory;
    }

    /// <summary>True when keys are selected by <c>kid</c> from a directory.</summary>
    public bool IsDirectory => _directory is not null;

    /// <summary>A ring holding one key.</summary>
    /// <exception cref="KeyLoadException">The key's <c>key_ops</c> do not allow verify.</exception>
    public static KeyRing Single(JwkKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.CanVerify)
            throw new KeyLoadException("the key's key_ops do not allow 'verify'");
        return new KeyRing(key, null);
    }

    /// <summary>Opens <paramref name="path"/>: a directory of <c>&lt;kid&gt;.jwk</c> files, or one key file (loaded now).</summary>
    /// <exception cref="KeyLoadException">The path does not exist, or the single key is invalid or cannot verify.</exception>
    public static KeyRing Open(string path)
    {
        if (Directory.Exists(path))
            return new KeyRing(null, Path.GetFullPath(path));
        if (!File.Exists(path))
            throw new KeyLoadException($"key file or directory {path} does not exist");
        var key = JwkKey.Load(path);
        try
        {
            return Single(key);
        }
        catch (KeyLoadException ex)
        {
            throw new KeyLoadException($"key file {path}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Finds the key for a token whose header carries <paramref name="kid"/>. Returns null with a reason (safe to
    /// log: it names at most the kid) when there is no usable key.
    /// </summary>
    public JwkKey? Resolve(string? kid, out string? failure)
    {
        failure = null;
        if (_single is not null)
            return _single;
        if (string.IsNullOrEmpty(kid))
        {
            failure = "token has no 'kid' (required with a key directory)";
            return null;
        }
        if (!KidPattern().IsMatch(kid))
        {
            failure = "token 'kid' has characters outside [A-Za-z0-9_-]";
            return null;
        }
        var file = Path.Combine(_directory!, kid + ".jwk");
        var stamp = File.Exists(file) ? File.GetLastWriteTimeUtc(file) : DateTime.MinValue;
        if (stamp == DateTime.MinValue)
        {
            failure = $"no key with kid '{kid}'";
            return null;
        }
        var entry = _cache.TryGetValue(kid, out var cached) && cached.Stamp == stamp ? cached : _cache[kid] = LoadEntry(file, stamp);
        failure = entry.Error;
        return entry.Key;
    }

    private static (DateTime, JwkKey?, string?) LoadEntry(string file, DateTime stamp)
    {
        try
        {
            var key = JwkKey.Load(file);
            return key.CanVerify ? (stamp, key, null) : (stamp, null, $"key {Path.GetFileName(file)} does not allow 'verify'");
        }
        catch (KeyLoadException ex)
        {
            return (stamp, null, ex.Message);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex KidPattern();
}
