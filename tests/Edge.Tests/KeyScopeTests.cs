using MoqCluster.Edge.Auth;

namespace MoqCluster.Edge.Tests;

/// <summary>A key's scope caps what its tokens may grant (per role, segment-aware, roots resolved first).</summary>
public sealed class KeyScopeTests
{
    private static readonly KeyScope Scope = new("demo", ["live"], [""]);

    [Theory]
    [InlineData("demo", new[] { "live" }, new string[0], true)]
    [InlineData("demo", new[] { "live/room" }, new[] { "" }, true)]
    [InlineData("", new[] { "demo/live/room" }, new[] { "demo/x" }, true)]
    [InlineData("demo/live", new[] { "" }, new string[0], true)]
    [InlineData("demo", new[] { "other" }, new string[0], false)]
    [InlineData("demo", new[] { "lively" }, new string[0], false)]
    [InlineData("", new[] { "" }, new string[0], false)]
    [InlineData("", new string[0], new[] { "" }, false)]
    [InlineData("other", new string[0], new[] { "" }, false)]
    public void Allows(string root, string[] put, string[] get, bool allowed)
        => Assert.Equal(allowed, Scope.Allows(TestTokens.Claims(root, put, get)));

    [Fact]
    public void RoleLeftEmpty_AllowsNothingInThatRole()
    {
        var publishOnly = new KeyScope("demo", [""], []);

        Assert.True(publishOnly.Allows(TestTokens.Claims("demo", ["x"], [])));
        Assert.False(publishOnly.Allows(TestTokens.Claims("demo", ["x"], ["x"])));
    }
}
