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
[MemoryDiagnoser]
public class ForwardBenchmarks
{
    private readonly List<IAsyncDisposable> _sessions = [];
    private TrackProducer _track = null!;
    private TrackConsumer[] _consumers = [];
    private byte[] _payload = [];
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
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _payload = new byte[FrameSize];
        var relay = new Origin();
        var published = new Origin();
        var broadcast = new BroadcastProducer();
        _track = broadcast.CreateTrack("video");
        published.Publish("cam", broadcast.Consume());
        await PairAsync(new SessionOptions { Publish = published.Consumer() },
            new SessionOptions { Subscribe = relay.Producer("anon"), Publish = relay.Consumer("anon") });
        var subscribers = new List<MoqSession>();
        for (var i = 0; i < Subscribers; i++)
            subscribers.Add(await PairAsync(new SessionOptions(),
                new SessionOptions { Subscribe = relay.Producer("anon"), Publish = relay.Consumer("anon") }));
        foreach (var s in subscribers)
        {
            using var feed = s.Announced();
            while (!feed.Initial.Any(a => a.Path.Value == "cam"))
                if (await feed.NextAsync() is { Path.Value: "cam", IsActive: true })
                    break;
        }
        _consumers = subscribers.Select(s => s.Consume("cam").Subscribe("video")).ToArray();
        // Groups flow until every subscriber has one: then all are attached and past the join point.
        for (var warm = 0; warm < 50; warm++)
            await GroupAsync();
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

    /// <summary>Closes every session.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var c in _consumers)
            c.Dispose();
        foreach (var s in _sessions)
            s.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>One group of <see cref="Frames"/> frames from the publisher to every subscriber.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public Task<long> GroupThroughRelay() => GroupAsync();

    private async Task<long> GroupAsync()
    {
        var group = _track.AppendGroup(_sequence++);
        var readers = new Task<long>[_consumers.Length];
        for (var i = 0; i < readers.Length; i++)
            readers[i] = ReadGroupAsync(_consumers[i]);
        for (var f = 0; f < Frames; f++)
            group.WriteFrame(_payload, f);
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
