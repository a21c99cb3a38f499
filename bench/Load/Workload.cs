namespace MoqCluster.Bench.Load;

/// <summary>
/// One cell of the matrix: <see cref="Publishers"/> broadcasts, <see cref="Subscribers"/> subscriber
/// sessions each reading every broadcast, frames of <see cref="FrameBytes"/> in groups of
/// <see cref="GroupFrames"/>, sent at <see cref="RateMbps"/> per broadcast (0 = saturating, closed-loop)
/// or not at all when <see cref="Idle"/>.
/// </summary>
internal sealed record Workload(
    string Id,
    int Publishers,
    int Subscribers,
    int FrameBytes,
    double RateMbps,
    int GroupFrames,
    bool Idle,
    TimeSpan Warmup,
    TimeSpan Duration,
    int WindowBytes = 1 << 20)
{
    /// <summary>Frames per second per broadcast at the fixed rate; 0 when saturating.</summary>
    public double FramesPerSecond => RateMbps > 0 ? RateMbps * 1e6 / (8.0 * FrameBytes) : 0;

    /// <summary>The saturation window in frames: how far a saturating publisher may run ahead of its subscribers' average position (<see cref="WindowBytes"/>).</summary>
    public int WindowFrames => Math.Max(4, WindowBytes / FrameBytes);

    /// <summary>Delivered Gbit/s the fixed rate asks for (every subscriber gets every broadcast); null when saturating or idle.</summary>
    public double? OfferedGbps => Idle || RateMbps <= 0 ? null : RateMbps * 1e6 * Publishers * Subscribers / 1e9;
}
