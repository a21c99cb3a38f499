namespace MoqCluster.Protocol.Model;

/// <summary>
/// A subscriber's preferences for a track (SUBSCRIBE / SUBSCRIBE_UPDATE fields).
/// </summary>
/// <param name="Priority">Higher is sent first across the session.</param>
/// <param name="Ordered">True: oldest group first; false: newest first.</param>
/// <param name="MaxLatency">How long a non-latest group may still be delivered; zero means "no preference" (see remarks).</param>
/// <param name="StartGroup">First group wanted; null = start at the latest group.</param>
/// <param name="EndGroup">Last group wanted (inclusive); null = unbounded.</param>
/// <remarks>
/// The JavaScript clients send a max latency of 0 unless the application sets one. The draft reads 0 as
/// "latest group only", which would make a relay drop whole groups whenever a subscriber briefly lags;
/// we read 0 as "no preference" and apply the publisher's bound (<see cref="TrackInfo.MaxLatency"/>).
/// </remarks>
public sealed record SubscriptionOptions(
    byte Priority = 0,
    bool Ordered = false,
    TimeSpan MaxLatency = default,
    ulong? StartGroup = null,
    ulong? EndGroup = null)
{
    /// <summary>Defaults: priority 0, newest first, publisher's latency, from the latest group, unbounded.</summary>
    public static SubscriptionOptions Default { get; } = new();

    /// <summary>
    /// The aggregate a relay sends upstream for many downstream subscribers (as the reference relay):
    /// priority max, ordered only if all are, latency max, the smallest explicit start, end unbounded
    /// if any is unbounded else the max.
    /// </summary>
    public static SubscriptionOptions Aggregate(IEnumerable<SubscriptionOptions> all)
    {
        byte priority = 0;
        var ordered = true;
        var latency = TimeSpan.Zero;
        ulong? start = null;
        ulong? end = 0;
        var any = false;
        foreach (var o in all)
        {
            any = true;
            priority = Math.Max(priority, o.Priority);
            ordered &= o.Ordered;
            if (o.MaxLatency > latency)
                latency = o.MaxLatency;
            if (o.StartGroup is { } s)
                start = start is { } cur ? Math.Min(cur, s) : s;
            end = o.EndGroup is null || end is null ? null : Math.Max(end.Value, o.EndGroup.Value);
        }
        return any ? new SubscriptionOptions(priority, ordered, latency, start, end) : Default;
    }
}
