using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Transport.TransportTestKit;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>The writer loop's wake-up: coalescing, and inline versus thread-pool continuations.</summary>
public class WriterSignalTests
{
    [Fact]
    public async Task SignalBeforeWait_CompletesTheNextWaitAtOnce_AndSignalsCoalesce()
    {
        var signal = new WriterSignal();
        signal.Signal();
        signal.Signal(inline: true);
        Assert.True(signal.WaitAsync().IsCompleted);
        // Both signals were consumed by that one wait.
        var next = signal.WaitAsync();
        Assert.False(next.IsCompleted);
        signal.Signal();
        await next.AsTask().WaitAsync(Guard);
    }

    [Fact]
    public async Task InlineSignal_RunsTheWaiterOnTheSignallingThread_BeforeReturning()
    {
        var signal = new WriterSignal();
        int ranOn = -1;
        var waiter = WaitThenRecordAsync(signal, () => ranOn = Environment.CurrentManagedThreadId);
        await Task.Yield();
        var me = Environment.CurrentManagedThreadId;
        signal.Signal(inline: true);
        Assert.Equal(me, ranOn);
        await waiter.WaitAsync(Guard);
    }

    [Fact]
    public async Task PlainSignal_NeverRunsTheWaiterInline()
    {
        var signal = new WriterSignal();
        using var gate = new ManualResetEventSlim();
        var opened = false;
        var waiter = WaitThenRecordAsync(signal, () => opened = gate.Wait(TimeSpan.FromSeconds(5)));
        signal.Signal();
        // Had the continuation run inline, Signal would have returned only after the gate timed out.
        gate.Set();
        await waiter.WaitAsync(Guard);
        Assert.True(opened);
    }

    [Fact]
    public async Task ManyWaits_EachNeedsItsOwnSignal()
    {
        var signal = new WriterSignal();
        for (int i = 0; i < 1000; i++)
        {
            var wait = signal.WaitAsync();
            Assert.False(wait.IsCompleted);
            signal.Signal(inline: i % 2 == 0);
            await wait.AsTask().WaitAsync(Guard);
        }
    }
}
