using System.Collections.Concurrent;

namespace MoqCluster.Interop.Tests.CSharp;

/// <summary>
/// Which groups a C# reader has received, so a writer can go in lockstep with it. Needed because "someone consumes
/// my track" is not "the subscription is in place": a lite-05 peer first asks for TRACK_INFO (which also counts as a
/// consumer), and a subscription that arrives after group 1 starts at group 1, as a late joiner should.
/// </summary>
internal sealed class GroupProgress
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _groups = new();

    /// <summary>Records that group <paramref name="sequence"/> arrived.</summary>
    public void Report(ulong sequence) => Slot(sequence).TrySetResult();

    /// <summary>Completes once group <paramref name="sequence"/> arrived.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/> (a hang guard).</exception>
    public async Task WaitAsync(long sequence, TimeSpan timeout)
    {
        try
        {
            await Slot((ulong)sequence).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the reader did not receive group {sequence} within {timeout}; received: {string.Join(',', _groups.Where(g => g.Value.Task.IsCompleted).Select(g => g.Key).Order())}");
        }
    }

    private TaskCompletionSource Slot(ulong sequence) =>
        _groups.GetOrAdd(sequence, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
