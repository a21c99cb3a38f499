using Microsoft.Extensions.Configuration;

namespace MoqCluster.Silo.Tests;

public class ClusterOptionsTests
{
    [Fact]
    public void Reads_the_cluster_section_from_the_command_line()
    {
        var config = new ConfigurationBuilder().AddCommandLine([
            "--Cluster:Etcd=http://127.0.0.1:32379, http://127.0.0.1:32479,http://127.0.0.1:32579",
            "--Cluster:NodeId=edge-a", "--Cluster:AdvertiseUrl=tcp://10.0.0.5:4444", "--Cluster:Region=eu-west",
            "--Cluster:LeaseTtl=5", "--Cluster:OriginId=9007199254740991",
        ]).Build();
        var o = ClusterOptions.FromConfiguration(config);
        Assert.Equal(3, o.EtcdEndpoints.Count);
        Assert.Equal(32479, o.EtcdEndpoints[1].Port);
        Assert.True(o.IsClustered);
        Assert.Equal("edge-a", o.NodeId);
        Assert.Equal("tcp://10.0.0.5:4444", o.AdvertiseUrl);
        Assert.Equal("eu-west", o.Region);
        Assert.Equal(TimeSpan.FromSeconds(5), o.LeaseTtl);
        Assert.Equal(9007199254740991UL, o.OriginId);
    }

    [Fact]
    public void Absent_etcd_means_single_node_with_defaults()
    {
        var o = ClusterOptions.FromConfiguration(new ConfigurationBuilder().Build());
        Assert.False(o.IsClustered);
        Assert.Equal(TimeSpan.FromSeconds(3), o.LeaseTtl);
        Assert.InRange(o.OriginId, 1UL, (1UL << 53) - 1);
        Assert.False(string.IsNullOrEmpty(o.NodeId));
        Assert.Equal(TimeSpan.FromSeconds(1), o.EffectiveEtcdRequestTimeout);
    }

    [Theory]
    [InlineData("3", 3000)]
    [InlineData("2.5", 2500)]
    [InlineData("3s", 3000)]
    [InlineData("1500ms", 1500)]
    [InlineData("00:00:04", 4000)]
    public void Durations(string text, int ms) => Assert.Equal(TimeSpan.FromMilliseconds(ms), ClusterOptions.ParseDuration(text));

    [Theory]
    [InlineData("Etcd", "not a url")]
    [InlineData("Etcd", "ftp://127.0.0.1:1")]
    [InlineData("OriginId", "9007199254740992")]
    [InlineData("OriginId", "0")]
    [InlineData("LeaseTtl", "0.2")]
    [InlineData("LeaseTtl", "soon")]
    public void Bad_values_are_refused(string name, string value) =>
        Assert.Throws<FormatException>(() => ClusterOptions.Parse(n => n == name ? value : null));
}
