namespace MoqCluster.Protocol.Messages;

/// <summary>The SETUP Role parameter a client declares (spec §4.2, §6.3).</summary>
public enum SetupRole : ulong
{
    /// <summary>Publishes and subscribes; also the meaning of unknown values.</summary>
    Both = 0,
    /// <summary>Only publishes.</summary>
    Publisher = 1,
    /// <summary>Only subscribes.</summary>
    Subscriber = 2,
}
