using MoqCluster.Protocol.Model;

namespace MoqCluster.Protocol.Tests.Model;

/// <summary>
/// Readers that wait for the next frame or group park a pooled, reusable waiter: cancelling one must not disturb
/// the others, and a reader (or the pooled waiter it gave back) must wait correctly again afterwards.
/// </summary>
public class ParkedReaderTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Cancelling_one_parked_frame_reader_leaves_the_others_parked_and_it_can_read_again()
    {
        var track = new TrackProducer("video", TrackInfo.Default);
        var consumers = Enumerable.Range(0, 5).Select(_ => track.Subscribe()).ToArray();
        var group = track.AppendGroup();
        var readers = new List<GroupConsumer>();
        foreach (var c in consumers)
            readers.Add((await c.NextLeasedGroupAsync().AsTask().WaitAsync(Guard))!);

        using var cts = new CancellationTokenSource();
        var cancelled = readers[2].ReadFrameAsync(cts.Token).AsTask();
        var waiting = readers.Where((_, i) => i != 2).Select(r => r.ReadFrameAsync().AsTask()).ToArray();
        await Task.Delay(20);
        Assert.False(cancelled.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Guard));
        Assert.All(waiting, w => Assert.False(w.IsCompleted));

        group.WriteFrame(new byte[] { 7 });
        foreach (var w in waiting)
            Assert.Equal(7, (await w.WaitAsync(Guard))!.Value.Payload.Span[0]);
        // The cancelled reader did not advance: it reads the same frame now.
        Assert.Equal(7, (await readers[2].ReadFrameAsync().AsTask().WaitAsync(Guard))!.Value.Payload.Span[0]);

        // Parked again after the cancellation, every reader is woken by the next change.
        var again = readers.Select(r => r.ReadFrameAsync().AsTask()).ToArray();
        await Task.Delay(20);
        group.Finish();
        foreach (var a in again)
            Assert.Null(await a.WaitAsync(Guard));
        foreach (var r in readers)
            r.Dispose();
        foreach (var c in consumers)
            c.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_reader_that_resumes_inline_runs_on_the_writers_thread_and_others_on_the_pool(bool inline)
    {
        var track = new TrackProducer("video", TrackInfo.Default);
        using var consumer = track.Subscribe();
        consumer.ResumeInline = inline;
        int groupThread = 0, frameThread = 0;
        var gotGroup = new ManualResetEventSlim();
        var gotFrame = new ManualResetEventSlim();
        async Task ReadAsync()
        {
            using var group = (await consumer.NextLeasedGroupAsync().ConfigureAwait(false))!;
            groupThread = Environment.CurrentManagedThreadId;
            gotGroup.Set();
            Assert.Equal(inline, group.ResumeInline);
            Assert.Equal(9, (await group.ReadFrameAsync().ConfigureAwait(false))!.Value.Payload.Span[0]);
            frameThread = Environment.CurrentManagedThreadId;
            gotFrame.Set();
        }
        // Runs until it parks on the next group, so the writes below find it waiting.
        var reading = ReadAsync();
        Assert.False(reading.IsCompleted);

        // The writer blocks until the reader has resumed, so a queued continuation cannot run on its thread.
        var writer = Environment.CurrentManagedThreadId;
        var appended = track.AppendGroup();
        Assert.True(gotGroup.Wait(Guard));
        Assert.Equal(inline, groupThread == writer);
        if (inline)
            Assert.False(gotFrame.IsSet); // parked on the next frame, inside AppendGroup
        appended.WriteFrame(new byte[] { 9 });
        Assert.True(gotFrame.Wait(Guard));
        if (inline)
            Assert.Equal(writer, frameThread);
        await reading.WaitAsync(Guard);
    }

    [Fact]
    public async Task An_already_cancelled_token_fails_a_read_that_would_park_but_not_one_that_has_a_frame()
    {
        var track = new TrackProducer("video", TrackInfo.Default);
        using var consumer = track.Subscribe();
        var group = track.AppendGroup();
        using var reader = (await consumer.NextLeasedGroupAsync().AsTask().WaitAsync(Guard))!;
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadFrameAsync(cts.Token).AsTask().WaitAsync(Guard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.NextGroupAsync(cts.Token).AsTask().WaitAsync(Guard));
        group.WriteFrame(new byte[] { 1 });
        Assert.NotNull(await reader.ReadFrameAsync(cts.Token).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task Many_waits_and_cancellations_race_with_writes_without_losing_a_wake()
    {
        var track = new TrackProducer("video", TrackInfo.Default);
        using var consumer = track.Subscribe();
        for (ulong g = 0; g < 50; g++)
        {
            var group = track.AppendGroup(g);
            var next = consumer.NextLeasedGroupAsync().AsTask();
            using var reader = (await next.WaitAsync(Guard))!;
            Assert.Equal(g, reader.Sequence);
            var read = Task.Run(async () =>
            {
                var frames = 0;
                while (true)
                {
                    // A short-lived token on every other wait: some fire while parked, some race with the write.
                    using var cts = new CancellationTokenSource(frames % 2 == 0 ? TimeSpan.FromMilliseconds(1) : Timeout.InfiniteTimeSpan);
                    try
                    {
                        if (await reader.ReadFrameAsync(cts.Token) is null)
                            return frames;
                        frames++;
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            });
            for (var f = 0; f < 20; f++)
            {
                group.WriteFrame(new byte[] { (byte)f });
                if (f % 5 == 0)
                    await Task.Delay(1);
            }
            group.Finish();
            Assert.Equal(20, await read.WaitAsync(Guard));
        }
    }
}
