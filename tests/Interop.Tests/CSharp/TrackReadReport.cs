namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>What <see cref="CSharpTrackReader"/> saw on a track.</summary>
/// <param name="Sequences">Group sequences in arrival order.</param>
/// <param name="GroupsComplete">Groups whose every frame arrived and verified.</param>
/// <param name="Frames">Frames received.</param>
/// <param name="Bytes">Payload bytes received.</param>
/// <param name="Errors">Integrity, order, sequence and duplicate errors, and how reading ended if early.</param>
internal sealed record TrackReadReport(IReadOnlyList<ulong> Sequences, int GroupsComplete, int Frames, long Bytes, IReadOnlyList<string> Errors)
{
    /// <summary>A one-line description for assertion messages.</summary>
    public override string ToString() =>
        $"groups {string.Join(',', Sequences)}; complete {GroupsComplete}; frames {Frames}; bytes {Bytes}; errors: {string.Join(" | ", Errors)}";
}
