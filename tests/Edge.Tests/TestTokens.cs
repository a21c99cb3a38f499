using MoqCluster.Edge.Auth;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Tests;

/// <summary>Shorthands for building claims in tests.</summary>
internal static class TestTokens
{
    public static TokenClaims Claims(string root = "", string[]? put = null, string[]? get = null, DateTimeOffset? exp = null)
        => new()
        {
            Root = MoqPath.Parse(root),
            Put = (put ?? []).Select(MoqPath.Parse).ToList(),
            Get = (get ?? []).Select(MoqPath.Parse).ToList(),
            ExpiresAt = exp,
        };

    /// <summary>The §6.3 example token: root=demo, put=[my-stream], get=[""].</summary>
    public static TokenClaims Demo(DateTimeOffset? exp = null) => Claims("demo", ["my-stream"], [""], exp);

    /// <summary>A fresh temporary directory, deleted on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("moq-auth-").FullName;

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
