using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Bench.Micro;

/// <summary>
/// The relay's forward path end to end over in-memory QMux connections: a publisher session writes a group,
/// the relay receives it on one connection and sends it on <see cref="Subscribers"/> others, every subscriber
/// session reads every frame. Allocated bytes per operation ÷ (frames × subscribers) is the per-forwarded-frame
/// cost. Every session receives payloads into pooled arrays; subscribers read through leased group readers
/// (<see cref="TrackConsumer.NextLeasedGroupAsync"/>), so their arrays go back to the pool as well. A client that
/// reads with the plain <see cref="TrackConsumer.NextGroupAsync"/> keeps every payload, one array per frame.
/// </summary>
/// <remarks>
/// Each group costs every subscriber a stream, a reader, a sender task and so on, on both sides of each
/// connection: this case measures that per-group cost spread over <see cref="Frames"/> frames.
/// <see cref="ForwardInGroupBenchmarks"/> measures the frames alone.
/// </remarks>
[MemoryDiagnoser]
public class ForwardBenchmarks
{
    private RelayFixture _relay = null!;
    private ulong _sequence;

    /// <summary>Subscriber sessions reading the track through the relay.</summary>
    [Params(10)]
    public int Subscribers { get; set; }

    /// <summary>Payload bytes per frame.</summary>
    [Params(1024, 16384)]
    public int FrameSize { get; set; }

    /// <summary>Frames per group.</summary>
    public const int Frames = 30;

    /// <summary>Publisher → relay → subscribers, all subscribed before the first measured group.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _relay = RelayFixture.CreateAsync(Subscribers, FrameSize).GetAwaiter().GetResult();
        // Groups flow until every subscriber has one: then all are attached and past the join point. More groups
        // fill every track's cache to its byte budget, so evictions return payload arrays as fast as groups rent them.
        for (var warm = 0; warm < 400; warm++)
            GroupAsync().GetAwaiter().GetResult();
    }

    /// <summary>Closes every session.</summary>
    [GlobalCleanup]
    public void Cleanup() => _relay.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One group of <see cref="Frames"/> frames from the publisher to every subscriber.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public Task<long> GroupThroughRelay() => GroupAsync();

    private async Task<long> GroupAsync()
    {
        var group = _relay.Track.AppendGroup(_sequence++);
        var readers = new Task<long>[_relay.Consumers.Length];
        for (var i = 0; i < readers.Length; i++)
            readers[i] = ReadGroupAsync(_relay.Consumers[i]);
        for (var f = 0; f < Frames; f++)
            group.WriteFrame(_relay.Payload, f);
        group.Finish();
        long bytes = 0;
        foreach (var r in readers)
            bytes += await r;
        return bytes;
    }

    private static async Task<long> ReadGroupAsync(TrackConsumer consumer)
    {
        long bytes = 0;
        using var group = await consumer.NextLeasedGroupAsync();
        while (await group!.ReadFrameAsync() is { } frame)
            bytes += frame.Payload.Length;
        return bytes;
    }
}

/// <summary>
/// The forward path in steady state: frames inside one long group, every group stream already open on every
/// connection. One operation is one frame from the publisher to every subscriber (<see cref="Subscribers"/>
/// forwarded frames); the target is 0 bytes.
/// </summary>
/// <remarks>
/// Each iteration is one group: the setup opens it and pushes its first frame to every subscriber (so stream
/// opens, readers and tasks are outside the measurement), the measured invocations append
/// <see cref="FramesPerIteration"/> frames, and the cleanup finishes it. The group's payloads stay held until
/// the group leaves the caches, so the iteration is sized to what <c>PayloadPool</c> keeps per size class for the
/// 11 sessions that receive each frame in this process (publisher side excepted): 11 × 17 16 KiB arrays fit
/// even in the 256 it keeps by default, and the evictions at each group's start give back as many as the group takes.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(FramesPerIteration)]
public class ForwardInGroupBenchmarks
{
    /// <summary>Measured frames per iteration (one group).</summary>
    public const int FramesPerIteration = 16;

    private RelayFixture _relay = null!;
    private GroupProducer? _group;
    private GroupConsumer[] _readers = [];
    private ulong _sequence;
    private long _timestamp;

    /// <summary>Subscriber sessions reading the track through the relay.</summary>
    [Params(10)]
    public int Subscribers { get; set; }

    /// <summary>Payload bytes per frame.</summary>
    [Params(1024, 16384)]
    public int FrameSize { get; set; }

    /// <summary>Publisher → relay → subscribers, all subscribed and warmed up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _relay = RelayFixture.CreateAsync(Subscribers, FrameSize).GetAwaiter().GetResult();
        _readers = new GroupConsumer[Subscribers];
        // Groups of the measured length until the caches are full and the pool is in balance (see remarks).
        for (var warm = 0; warm < 400; warm++)
        {
            OpenGroup();
            for (var f = 0; f < FramesPerIteration; f++)
                FrameAsync().AsTask().GetAwaiter().GetResult();
            CloseGroup();
        }
    }

    /// <summary>Opens the iteration's group and pushes its first frame through every stream.</summary>
    [IterationSetup]
    public void OpenGroup()
    {
        _group = _relay.Track.AppendGroup(_sequence++);
        // The relay opens a group's stream with its first frame: write it before waiting for the subscribers to see
        // the group.
        _group.WriteFrame(_relay.Payload, _timestamp++);
        for (var i = 0; i < _readers.Length; i++)
        {
            _readers[i] = _relay.Consumers[i].NextLeasedGroupAsync().AsTask().GetAwaiter().GetResult()!;
            if (_readers[i].ReadFrameAsync().AsTask().GetAwaiter().GetResult() is null)
                throw new InvalidOperationException("group ended early");
        }
    }

    /// <summary>Finishes the group; every subscriber sees its end before the next iteration.</summary>
    [IterationCleanup]
    public void CloseGroup()
    {
        _group!.Finish();
        foreach (var reader in _readers)
        {
            if (reader.ReadFrameAsync().AsTask().GetAwaiter().GetResult() is not null)
                throw new InvalidOperationException("a subscriber read past the frames written");
            reader.Dispose();
        }
        // The senders' and receivers' teardown of this group's streams runs on after the readers saw its end:
        // let it finish here rather than inside the next measurement.
        Thread.Sleep(20);
    }

    /// <summary>Closes every session.</summary>
    [GlobalCleanup]
    public void Cleanup() => _relay.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One frame from the publisher, through the relay, read by every subscriber.</summary>
    [Benchmark]
    public ValueTask FrameThroughRelay() => FrameAsync();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FrameAsync()
    {
        _group!.WriteFrame(_relay.Payload, _timestamp++);
        foreach (var reader in _readers)
        {
            if (await reader.ReadFrameAsync().ConfigureAwait(false) is null)
                throw new InvalidOperationException("group ended early");
        }
    }
}

/// <summary>A publisher session, a relay and subscriber sessions, all over in-memory QMux connections.</summary>
internal sealed class RelayFixture : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _sessions = [];

    private RelayFixture(int frameSize) => Payload = new byte[frameSize];

    /// <summary>The publisher's track.</summary>
    public TrackProducer Track { get; private set; } = null!;

    /// <summary>One subscription per subscriber session, through the relay.</summary>
    public TrackConsumer[] Consumers { get; private set; } = [];

    /// <summary>The payload every frame carries.</summary>
    public byte[] Payload { get; }

    public static async Task<RelayFixture> CreateAsync(int subscribers, int frameSize)
    {
        // Eleven sessions receive every frame in this one process (relay and subscribers), and all eleven track caches
        // evict a group at the same group boundary: 330 payload arrays come back at once, more than the 256 16 KiB
        // arrays the pool keeps by default, and as many are allocated again during the next group. A relay process
        // has one cache per track, evicting at its own pace. A larger pool keeps that artefact out of the numbers;
        // set before the pool's first use.
        AppContext.SetData("MoqCluster.PayloadPool.BytesPerSize", 16 * 1024 * 1024);
        var fixture = new RelayFixture(frameSize);
        var relay = new Origin();
        var published = new Origin();
        var broadcast = new BroadcastProducer();
        fixture.Track = broadcast.CreateTrack("video");
        published.Publish("cam", broadcast.Consume());
        await fixture.PairAsync(new SessionOptions { Publish = published.Consumer() },
            new SessionOptions { Subscribe = relay.Producer("anon"), Publish = relay.Consumer("anon") });
        var sessions = new List<MoqSession>();
        for (var i = 0; i < subscribers; i++)
            sessions.Add(await fixture.PairAsync(new SessionOptions(),
                new SessionOptions { Subscribe = relay.Producer("anon"), Publish = relay.Consumer("anon") }));
        foreach (var s in sessions)
        {
            using var feed = s.Announced();
            while (!feed.Initial.Any(a => a.Path.Value == "cam"))
                if (await feed.NextAsync() is { Path.Value: "cam", IsActive: true })
                    break;
        }
        fixture.Consumers = sessions.Select(s => s.Consume("cam").Subscribe("video")).ToArray();
        return fixture;
    }

    private async Task<MoqSession> PairAsync(SessionOptions client, SessionOptions server)
    {
        var (c, s) = InMemoryConnection.CreatePair(MoqVersion.Lite04.Alpn());
        client.Versions = [MoqVersion.Lite04];
        var accepting = MoqSession.AcceptAsync(s, server);
        var connecting = MoqSession.ConnectAsync(c, client);
        await Task.WhenAll(accepting, connecting);
        _sessions.Add(connecting.Result);
        _sessions.Add(accepting.Result);
        return connecting.Result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in Consumers)
            c.Dispose();
        foreach (var s in _sessions)
            await s.DisposeAsync();
    }
}
