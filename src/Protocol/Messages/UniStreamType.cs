namespace MoqCluster.Protocol.Messages;

/// <summary>The <c>Stream Type (i)</c> that opens every unidirectional stream (spec §3).</summary>
public enum UniStreamType : ulong
{
    /// <summary>A group of frames, publisher → subscriber.</summary>
    Group = 0x0,
    /// <summary>The one-shot SETUP stream (lite-05+).</summary>
    Setup = 0x1,
}
