using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// A wake that is claimed under the owner's lock and completed after it (<see cref="WaiterList.ClaimAll"/>): waiters
/// marked <see cref="AsyncWaiter.WakeInline"/> resume on the completing thread, the others on the thread pool, and a
/// claimed wait belongs to the claimer even if its token fires before it is completed.
/// </summary>
public class ClaimedWakeTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_inline_waiter_resumes_on_the_completing_thread_and_a_plain_one_does_not()
    {
        var list = new WaiterList();
        var inline = new AsyncWaiter { WakeInline = true };
        var plain = new AsyncWaiter();
        int? inlineThread = null;
        var plainThread = new TaskCompletionSource<int>();
        var gate = new ManualResetEventSlim();
        ValueTask inlineWait, plainWait;
        lock (list)
        {
            inlineWait = list.Park(inline, default);
            plainWait = list.Park(plain, default);
        }
        var inlineResumed = Resume(inlineWait, () => inlineThread = Environment.CurrentManagedThreadId);
        var plainResumed = Resume(plainWait, () =>
        {
            // Blocks until the completing thread has moved on: it must not be the one running this.
            gate.Wait(Guard);
            plainThread.SetResult(Environment.CurrentManagedThreadId);
        });

        AsyncWaiter? claimed;
        lock (list)
            claimed = list.ClaimAll();
        Assert.False(list.HasWaiters);
        WaiterList.CompleteClaimed(claimed);
        // The inline continuation has already run, here, before CompleteClaimed returned.
        Assert.Equal(Environment.CurrentManagedThreadId, inlineThread);
        gate.Set();
        Assert.NotEqual(Environment.CurrentManagedThreadId, await plainThread.Task.WaitAsync(Guard));
        await inlineResumed.WaitAsync(Guard);
        await plainResumed.WaitAsync(Guard);
    }

    [Fact]
    public async Task A_claimed_wait_completes_normally_even_when_its_token_fires_first()
    {
        var list = new WaiterList();
        var waiter = new AsyncWaiter { WakeInline = true };
        using var cts = new CancellationTokenSource();
        ValueTask wait;
        lock (list)
            wait = list.Park(waiter, cts.Token);
        AsyncWaiter? claimed;
        lock (list)
            claimed = list.ClaimAll();
        Assert.Same(waiter, claimed);
        await cts.CancelAsync();
        WaiterList.CompleteClaimed(claimed);
        await wait.AsTask().WaitAsync(Guard); // not cancelled

        // Reusable afterwards: parks, and this time the token wins because nobody claimed the wait.
        using var second = new CancellationTokenSource();
        lock (list)
            wait = list.Park(waiter, second.Token);
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(Guard));
        lock (list)
        {
            Assert.False(list.HasWaiters);
            Assert.Null(list.ClaimAll());
        }
    }

    [Fact]
    public async Task An_inline_continuation_that_parks_again_is_not_woken_twice_by_the_same_claim()
    {
        var list = new WaiterList();
        var first = new AsyncWaiter { WakeInline = true };
        var second = new AsyncWaiter { WakeInline = true };
        var wakes = new int[2];
        ValueTask again = default;
        ValueTask w1, w2;
        lock (list)
        {
            w1 = list.Park(first, default);
            w2 = list.Park(second, default);
        }
        var r1 = Resume(w1, () =>
        {
            wakes[0]++;
            // Parks again from inside the completion loop, as a group sender does after writing its frame.
            lock (list)
                again = list.Park(first, default);
        });
        var r2 = Resume(w2, () => wakes[1]++);
        AsyncWaiter? claimed;
        lock (list)
            claimed = list.ClaimAll();
        WaiterList.CompleteClaimed(claimed);
        Assert.Equal([1, 1], wakes);
        Assert.False(again.IsCompleted);
        lock (list)
            claimed = list.ClaimAll();
        WaiterList.CompleteClaimed(claimed);
        await again.AsTask().WaitAsync(Guard);
        await Task.WhenAll(r1, r2).WaitAsync(Guard);
    }

    private static async Task Resume(ValueTask wait, Action then)
    {
        await wait.ConfigureAwait(false);
        then();
    }
}
