namespace MoqCluster.TestSupport;

/// <summary>The decoded header of an <see cref="InteropPayload"/> frame.</summary>
/// <param name="Group">Group index.</param>
/// <param name="Frame">Frame index within the group.</param>
/// <param name="SendTimeMs">Send time in milliseconds since the Unix epoch.</param>
/// <param name="Length">Total payload length.</param>
/// <param name="FramesPerGroup">Frames per group the publisher writes.</param>
/// <param name="Groups">Groups the publisher writes.</param>
public readonly record struct InteropPayloadHeader(int Group, int Frame, double SendTimeMs, int Length, int FramesPerGroup, int Groups);
