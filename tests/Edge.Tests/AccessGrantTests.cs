using MoqCluster.Edge.Auth;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Edge.Tests;

/// <summary>Scoping claims to a connection path (spec §6.3).</summary>
public sealed class AccessGrantTests
{
    private static MoqPath[] Paths(params string[] paths) => paths.Select(MoqPath.Parse).ToArray();

    private static string Show(IEnumerable<MoqPath> paths) => string.Join(",", paths.Select(p => $"[{p}]").Order(StringComparer.Ordinal));

    [Theory]
    // The §6.3 table: token root=demo, put=["my-stream"], get=[""].
    [InlineData("/demo", "[my-stream]", "[]")]
    [InlineData("/", "[demo/my-stream]", "[demo]")]
    [InlineData("/demo/room", "", "[]")]
    public void SpecTable(string connect, string publish, string subscribe)
    {
        var grant = AccessGrant.Scope(MoqPath.Parse(connect), "demo", Paths("my-stream"), Paths(""));

        Assert.NotNull(grant);
        Assert.Equal(MoqPath.Parse(connect), grant.Root);
        Assert.Equal(publish, Show(grant.Publish));
        Assert.Equal(subscribe, Show(grant.Subscribe));
    }

    [Fact]
    public void SpecTable_OtherRoot_IsRejected()
        => Assert.Null(AccessGrant.Scope("/other", "demo", Paths("my-stream"), Paths("")));

    [Fact]
    public void ConnectingInsideAGrant_GrantsEverythingThere()
    {
        var grant = AccessGrant.Scope("demo/my-stream/hd", "demo", Paths("my-stream"), Paths("other"))!;

        Assert.Equal("[]", Show(grant.Publish));
        Assert.Empty(grant.Subscribe);
    }

    [Fact]
    public void ConnectingAboveAGrant_NarrowsIt()
    {
        var grant = AccessGrant.Scope("demo", "demo", Paths("rooms/a/alice"), Paths("rooms"))!;

        Assert.Equal("[rooms/a/alice]", Show(grant.Publish));
        Assert.Equal("[rooms]", Show(grant.Subscribe));
    }

    [Fact]
    public void ConnectingInsideTheRoot_StripsTheConnectionPathFromGrants()
    {
        var grant = AccessGrant.Scope("demo/rooms", "demo", Paths("rooms/a", "rooms/b", "lobby"), Paths("rooms"))!;

        Assert.Equal("[a],[b]", Show(grant.Publish));
        Assert.Equal("[]", Show(grant.Subscribe));
    }

    [Fact]
    public void MatchingIsPerSegment()
    {
        Assert.Null(AccessGrant.Scope("democlock", "demo", Paths(""), Paths("")));
        var grant = AccessGrant.Scope("demo/streamer", "demo", Paths("stream"), Paths("stream"))!;
        Assert.True(grant.IsEmpty);
    }

    [Fact]
    public void EmptyRoot_GrantsAreAbsolute()
    {
        var atRoot = AccessGrant.Scope("/", "", Paths("a", "b/c"), Paths(""))!;
        Assert.Equal("[a],[b/c]", Show(atRoot.Publish));
        Assert.Equal("[]", Show(atRoot.Subscribe));

        var below = AccessGrant.Scope("/b", "", Paths("a", "b/c"), Paths(""))!;
        Assert.Equal("[c]", Show(below.Publish));
        Assert.Equal("[]", Show(below.Subscribe));
    }

    [Fact]
    public void MultipleGrants_BroaderOnesAbsorbNarrowerOnes()
    {
        var grant = AccessGrant.Scope("/", "", Paths("a/b", "a", "c"), Paths("x", "x/y"))!;

        Assert.Equal("[a],[c]", Show(grant.Publish));
        Assert.Equal("[x]", Show(grant.Subscribe));
    }

    [Fact]
    public void DeepRootAboveConnection_IsJoinedOntoEveryGrant()
    {
        var grant = AccessGrant.Scope("org", "org/team/app", Paths("live", ""), Paths("vod"))!;

        Assert.Equal("[team/app]", Show(grant.Publish));
        Assert.Equal("[team/app/vod]", Show(grant.Subscribe));
    }

    [Fact]
    public void NoGrantsLeft_IsEmpty()
    {
        var grant = AccessGrant.Scope("demo/room", "demo", Paths("my-stream"), [])!;

        Assert.True(grant.IsEmpty);
    }

    [Fact]
    public void PublicAccess_GrantsPublicPrefixesBothWays()
    {
        var access = PublicAccess.Parse("anon, live");

        var atRoot = access.Grant("/")!;
        Assert.Equal("[anon],[live]", Show(atRoot.Publish));
        Assert.Equal("[anon],[live]", Show(atRoot.Subscribe));
        Assert.Equal("[]", Show(access.Grant("/anon/room")!.Publish));
        Assert.True(access.Grant("/private")!.IsEmpty);
        Assert.Null(PublicAccess.Parse("").Grant("/anon"));
    }
}
