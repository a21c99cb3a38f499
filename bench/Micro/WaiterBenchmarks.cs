using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Bench.Micro;

/// <summary>
/// One park and wake of a reader under a cancellable token, as a relay's group sender does once per frame and
/// subscriber: registering the token around every wait against keeping one registration for all of them
/// (<see cref="AsyncWaiter.KeepsRegistration"/>). Must allocate nothing either way.
/// </summary>
[MemoryDiagnoser]
public class WaiterBenchmarks
{
    private readonly WaiterList _list = new();
    private readonly AsyncWaiter _perWait = new();
    private readonly AsyncWaiter _kept = new() { KeepsRegistration = true };
    private readonly CancellationTokenSource _cts = new();

    /// <summary>Registers and unregisters the token around the wait.</summary>
    [Benchmark(Baseline = true)]
    public void RegisterPerWait() => Cycle(_perWait);

    /// <summary>Reuses the registration made by the first wait.</summary>
    [Benchmark]
    public void KeptRegistration() => Cycle(_kept);

    private void Cycle(AsyncWaiter waiter)
    {
        ValueTask wait;
        lock (_list)
            wait = _list.Park(waiter, _cts.Token);
        AsyncWaiter? claimed;
        lock (_list)
            claimed = _list.ClaimAll();
        WaiterList.CompleteClaimed(claimed);
        wait.GetAwaiter().GetResult();
    }
}
