using MoqCluster.Protocol.Model;
using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>
/// Reads a track with the C# model API and verifies every frame as <c>sub.mjs</c> does: payload integrity
/// (<see cref="InteropPayload.TryDecode"/>), group sequence == payload group, frame order, no duplicate group,
/// and the frame count per group announced in the header.
/// </summary>
internal static class CSharpTrackReader
{
    /// <summary>Reads until <paramref name="expectGroups"/> groups are complete, the track ends, or the hang guard fires.</summary>
    /// <param name="track">The subscription.</param>
    /// <param name="expectGroups">Complete groups to wait for.</param>
    /// <param name="timeout">Hang guard.</param>
    /// <param name="progress">Told about every group once it has been read to its end.</param>
    public static async Task<TrackReadReport> ReadAsync(TrackConsumer track, int expectGroups, TimeSpan timeout, GroupProgress? progress = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        var sequences = new List<ulong>();
        var errors = new List<string>();
        var seen = new HashSet<ulong>();
        int complete = 0, frames = 0;
        long bytes = 0;
        try
        {
            while (complete < expectGroups)
            {
                var group = await track.NextGroupAsync(cts.Token);
                if (group is null)
                {
                    errors.Add($"track ended after {complete} complete groups");
                    break;
                }

                sequences.Add(group.Sequence);
                if (!seen.Add(group.Sequence))
                {
                    errors.Add($"group {group.Sequence} delivered twice");
                }

                var index = 0;
                var expected = -1;
                for (var frame = await group.ReadFrameAsync(cts.Token); frame is not null; frame = await group.ReadFrameAsync(cts.Token))
                {
                    frames++;
                    bytes += frame.Value.Payload.Length;
                    if (!InteropPayload.TryDecode(frame.Value.Payload.Span, out var header, out var error))
                    {
                        errors.Add($"group {group.Sequence} frame #{index}: {error}");
                    }
                    else
                    {
                        if ((ulong)header.Group != group.Sequence)
                        {
                            errors.Add($"group {group.Sequence} carries payload group {header.Group}");
                        }

                        if (header.Frame != index)
                        {
                            errors.Add($"group {group.Sequence}: frame {header.Frame} arrived where {index} was expected");
                        }

                        expected = header.FramesPerGroup;
                    }

                    index++;
                }

                if (expected > 0 && index == expected)
                {
                    complete++;
                }
                else
                {
                    errors.Add($"group {group.Sequence} ended after {index} of {expected} frames");
                }

                progress?.Report(group.Sequence);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            errors.Add($"timed out after {timeout} with {complete} complete groups");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            errors.Add($"reading failed: {ex.GetType().Name}: {ex.Message}");
        }

        return new TrackReadReport(sequences, complete, frames, bytes, errors);
    }
}
