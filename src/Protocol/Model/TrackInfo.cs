namespace MoqCluster.Protocol.Model;

/// <summary>
/// Publisher-side properties of a track (lite-05 TRACK_INFO). Immutable for the track's lifetime.
/// Older versions have no wire field for them, so a relay synthesises <see cref="Default"/>.
/// </summary>
/// <param name="Priority">Publisher priority, a tie-breaker between subscriptions of equal subscriber priority.</param>
/// <param name="Ordered">True to deliver oldest groups first by default.</param>
/// <param name="MaxLatency">How long a non-latest group stays cached after a newer one exists.</param>
/// <param name="Timescale">Timestamp units per second; never zero.</param>
public sealed record TrackInfo(byte Priority, bool Ordered, TimeSpan MaxLatency, ulong Timescale)
{
    /// <summary>What the reference relay synthesises: priority 0, unordered, 5 s, millisecond timestamps.</summary>
    public static TrackInfo Default { get; } = new(0, false, TimeSpan.FromSeconds(5), 1000);
}
