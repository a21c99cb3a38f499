using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Session;

/// <summary>Builds client/server sessions over an in-memory QMux pair for a given version.</summary>
internal static class SessionPair
{
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    public static (IMoqConnection Client, IMoqConnection Server) Connections(MoqVersion version, QMuxWireFormat format = QMuxWireFormat.Qmux00)
        => InMemoryConnection.CreatePair(version.Alpn(), format);

    public static async Task<(MoqSession Client, MoqSession Server)> StartAsync(MoqVersion version, SessionOptions client, SessionOptions server)
    {
        var (c, s) = Connections(version);
        client.Versions = [version];
        var accepting = MoqSession.AcceptAsync(s, server);
        var connecting = MoqSession.ConnectAsync(c, client);
        await Task.WhenAll(accepting, connecting).WaitAsync(Guard);
        return (connecting.Result, accepting.Result);
    }

    /// <summary>Waits until <paramref name="path"/> is announced active on <paramref name="feed"/>.</summary>
    public static async Task<Announcement> WaitActiveAsync(AnnouncedConsumer feed, string path)
    {
        foreach (var a in feed.Initial)
            if (a.Path.Value == path)
                return a;
        while (true)
        {
            var next = await feed.NextAsync().AsTask().WaitAsync(Guard) ?? throw new InvalidOperationException("feed closed");
            if (next.Path.Value == path && next.IsActive)
                return next;
        }
    }

    /// <summary>Writes <paramref name="groups"/> groups of <paramref name="frames"/> frames whose bytes encode (group, frame).</summary>
    public static async Task PublishAsync(TrackProducer track, int groups, int frames, int size = 8, long timestampStep = 0)
    {
        var deadline = DateTime.UtcNow + Guard;
        while (track.ConsumerCount == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(5);
        long ts = 1000;
        for (var g = 0; g < groups; g++)
        {
            var group = track.AppendGroup((ulong)g);
            for (var f = 0; f < frames; f++)
            {
                group.WriteFrame(Payload(g, f, size), ts);
                ts += timestampStep;
            }
            group.Finish();
        }
    }

    /// <summary>Writes groups every few milliseconds until cancelled, for subscribers that join at the latest group.</summary>
    public static async Task PublishContinuouslyAsync(TrackProducer track, int frames, long timestampStep, CancellationToken ct, int size = 8)
    {
        long ts = 1000;
        for (var g = 0; !ct.IsCancellationRequested; g++)
        {
            var group = track.AppendGroup((ulong)g);
            for (var f = 0; f < frames; f++)
            {
                group.WriteFrame(Payload(g, f, size), ts);
                ts += timestampStep;
            }
            group.Finish();
            try
            {
                await Task.Delay(10, ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public static byte[] Payload(int group, int frame, int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
            bytes[i] = (byte)(group * 7 + frame * 13 + i);
        return bytes;
    }

    /// <summary>Reads <paramref name="groups"/> complete groups and checks every frame's content and order.</summary>
    public static async Task<List<(ulong Sequence, List<Frame> Frames)>> ReadAsync(TrackConsumer consumer, int groups, int frames, int size = 8)
    {
        var result = new List<(ulong, List<Frame>)>();
        while (result.Count < groups)
        {
            var group = await consumer.NextGroupAsync().AsTask().WaitAsync(Guard) ?? throw new InvalidOperationException("track ended early");
            var list = new List<Frame>();
            while (await group.ReadFrameAsync().AsTask().WaitAsync(Guard) is { } frame)
                list.Add(frame);
            Assert.Equal(frames, list.Count);
            for (var f = 0; f < frames; f++)
                Assert.Equal(Payload((int)group.Sequence, f, size), list[f].Payload.ToArray());
            result.Add((group.Sequence, list));
        }
        return result;
    }
}
