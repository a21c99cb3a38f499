using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// <see cref="AsyncWaiter.KeepsRegistration"/>: one token registration serves every wait under that token, including
/// a cancellation that fires while no wait is pending, and ends with <see cref="AsyncWaiter.EndRegistration"/>, which
/// must come before a wait under another token.
/// </summary>
public class KeptRegistrationTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(5);

    private static ValueTask Park(WaiterList list, AsyncWaiter waiter, CancellationToken token)
    {
        lock (list)
            return list.Park(waiter, token);
    }

    private static async Task WakeAsync(WaiterList list, ValueTask wait)
    {
        lock (list)
            list.WakeAll();
        await wait.AsTask().WaitAsync(Guard);
    }

    [Fact]
    public async Task A_cancellation_between_two_waits_cancels_the_next_wait_under_the_token_at_once()
    {
        var list = new WaiterList();
        var waiter = new AsyncWaiter { KeepsRegistration = true };
        using var cts = new CancellationTokenSource();
        for (var i = 0; i < 3; i++)
            await WakeAsync(list, Park(list, waiter, cts.Token));

        // No wait is pending: the kept registration's callback finds nothing to cancel.
        await cts.CancelAsync();
        var wait = Park(list, waiter, cts.Token);
        Assert.True(wait.IsCompleted);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask());
        lock (list)
            Assert.False(list.HasWaiters);
    }

    [Fact]
    public async Task A_kept_registration_cancels_a_parked_wait()
    {
        var list = new WaiterList();
        var waiter = new AsyncWaiter { KeepsRegistration = true };
        using var cts = new CancellationTokenSource();
        await WakeAsync(list, Park(list, waiter, cts.Token));
        var wait = Park(list, waiter, cts.Token);
        Assert.False(wait.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(Guard));
        lock (list)
            Assert.False(list.HasWaiters);
    }

    [Fact]
    public async Task After_EndRegistration_the_old_token_no_longer_reaches_the_waiter()
    {
        var list = new WaiterList();
        var waiter = new AsyncWaiter { KeepsRegistration = true };
        using var cts = new CancellationTokenSource();
        await WakeAsync(list, Park(list, waiter, cts.Token));
        waiter.EndRegistration();

        var wait = Park(list, waiter, default);
        await cts.CancelAsync(); // returns once the token's callbacks have run
        Assert.False(wait.IsCompleted);
        await WakeAsync(list, wait);
    }

    [Fact]
    public async Task Another_token_is_waited_on_only_once_the_kept_registration_ended()
    {
        var list = new WaiterList();
        var waiter = new AsyncWaiter { KeepsRegistration = true };
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        await WakeAsync(list, Park(list, waiter, first.Token));

        // Arm would otherwise have to end the registration inside the owner's lock, which its callback takes.
        Assert.Throws<InvalidOperationException>(() => waiter.Arm(null, second.Token));
        Assert.Throws<InvalidOperationException>(() => waiter.Arm(null, default));
        waiter.EndRegistration();
        var wait = Park(list, waiter, second.Token);
        await first.CancelAsync();
        Assert.False(wait.IsCompleted);
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(Guard));
    }
}
