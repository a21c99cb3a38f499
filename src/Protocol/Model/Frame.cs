namespace MoqCluster.Protocol.Model;

/// <summary>
/// One frame of a group: an opaque payload shared (never copied) by every consumer, and a timestamp
/// in the track's timescale (lite-05; stamped locally for frames from older versions).
/// </summary>
/// <param name="Payload">The payload; consumers must treat it as read-only.</param>
/// <param name="Timestamp">Presentation timestamp in units of <see cref="TrackInfo.Timescale"/>.</param>
public readonly record struct Frame(ReadOnlyMemory<byte> Payload, long Timestamp = 0);
