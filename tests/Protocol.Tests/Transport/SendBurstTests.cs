using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Transport.TransportTestKit;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// A <see cref="SendBurst"/> holds the inline writer wake-ups it causes and runs them once, when it ends, so the
/// writes of a burst leave a connection together.
/// </summary>
public class SendBurstTests
{
    [Fact]
    public async Task An_inline_signal_inside_a_burst_runs_the_writer_when_the_burst_ends_on_the_same_thread()
    {
        var signal = new WriterSignal();
        int ranOn = -1;
        var writer = WaitThenRecordAsync(signal, () => ranOn = Environment.CurrentManagedThreadId);
        await Task.Yield();
        var me = Environment.CurrentManagedThreadId;
        SendBurst.Run(() =>
        {
            signal.Signal(inline: true);
            signal.Signal(inline: true); // held once
            Assert.Equal(-1, ranOn);
        });
        Assert.Equal(me, ranOn);
        await writer.WaitAsync(Guard);
    }

    [Fact]
    public async Task A_nested_burst_joins_the_outer_one()
    {
        var signal = new WriterSignal();
        bool ran = false;
        var writer = WaitThenRecordAsync(signal, () => ran = true);
        await Task.Yield();
        SendBurst.Run(() =>
        {
            SendBurst.Run(() => signal.Signal(inline: true));
            Assert.False(ran); // the inner burst's end releases nothing: it owned nothing
        });
        Assert.True(ran);
        await writer.WaitAsync(Guard);
    }

    [Fact]
    public async Task A_burst_that_throws_still_releases_its_writers_and_closes()
    {
        var first = new WriterSignal();
        bool ran = false;
        var writer = WaitThenRecordAsync(first, () => ran = true);
        await Task.Yield();
        Assert.Throws<InvalidOperationException>(() => SendBurst.Run(() =>
        {
            first.Signal(inline: true);
            throw new InvalidOperationException("boom");
        }));
        Assert.True(ran);
        await writer.WaitAsync(Guard);

        // The burst is closed: an inline signal now runs at once.
        var second = new WriterSignal();
        bool secondRan = false;
        var next = WaitThenRecordAsync(second, () => secondRan = true);
        await Task.Yield();
        second.Signal(inline: true);
        Assert.True(secondRan);
        await next.WaitAsync(Guard);
    }

    [Fact]
    public void A_signal_to_a_busy_writer_is_not_held_and_is_not_lost()
    {
        var signal = new WriterSignal();
        SendBurst.Run(() => signal.Signal(inline: true)); // nobody waits: it is remembered, not held
        Assert.True(signal.WaitAsync().IsCompleted);
    }

    [Fact]
    public async Task Writes_in_a_burst_leave_the_connection_in_one_record_and_writes_outside_it_leave_one_by_one()
    {
        var (client, server, clientTap, _) = Pair(QMuxWireFormat.Qmux02);
        await using var c = client;
        await using var s = server;
        var uni = await client.OpenUniAsync().AsTask().WaitAsync(Guard);
        await uni.WriteAsync(new byte[] { 0 }).AsTask().WaitAsync(Guard);
        var incoming = await server.AcceptUniAsync().AsTask().WaitAsync(Guard);
        Assert.NotNull(incoming);

        var burst = await WriteWhenParkedAsync(client, clientTap, () => SendBurst.Run(uni, static u =>
        {
            for (int i = 1; i <= 20; i++)
                Assert.True(u.WriteAsync(new[] { (byte)i }).IsCompletedSuccessfully);
        }));
        // One record carries all twenty writes (the stream's bytes coalesce into one STREAM frame).
        Assert.Single(burst);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (byte)i),
            Frames(burst, QMuxWireFormat.Qmux02).Where(f => f.Kind == QMuxFrameKind.Stream).SelectMany(f => f.Data.ToArray()));

        var plain = await WriteWhenParkedAsync(client, clientTap, () =>
        {
            for (int i = 21; i <= 25; i++)
                Assert.True(uni.WriteAsync(new[] { (byte)i }).IsCompletedSuccessfully);
        });
        Assert.Equal(5, plain.Count);

        await uni.WriteAsync(default, fin: true).AsTask().WaitAsync(Guard);
        var received = await ReadToEndAsync(incoming!);
        Assert.Equal(Enumerable.Range(0, 26).Select(i => (byte)i), received);
    }

    /// <summary>Runs <paramref name="write"/> once the client's writer is parked; returns the records it sent.</summary>
    private static async Task<List<byte[]>> WriteWhenParkedAsync(QMuxConnection client, TapChannel tap, Action write)
    {
        await EventuallyAsync(() => client.WriterParked);
        int before = tap.Sent.Count;
        // On a thread of its own: this test's continuations may run inline on a receive loop, inside its burst.
        // The inline writer has sent everything before the writes return.
        await Task.Run(write).WaitAsync(Guard);
        return tap.Sent.Skip(before).ToList();
    }
}
