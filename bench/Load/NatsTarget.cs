using System.Net;

namespace MoqCluster.Bench.Load;

/// <summary>
/// nats-server over its plain text protocol: broadcast <c>i</c> is subject <c>b.i</c>; a subscriber session
/// is one TCP connection with one SUB per broadcast. NATS has no groups, so a frame's group is its
/// sequence divided by the group length, which makes "groups dropped" comparable.
/// </summary>
internal sealed class NatsTarget(IPEndPoint server, int groupFrames, RunErrors errors) : ILoadTarget
{
    /// <inheritdoc/>
    public string Name => "nats";

    private static string SubjectOf(int broadcast) => $"b.{broadcast}";

    /// <inheritdoc/>
    public async Task<IFramePublisher> ConnectPublisherAsync(int broadcast, CancellationToken cancellationToken)
    {
        var connection = await NatsConnection.ConnectAsync(server, [], static (_, _) => { }, errors, cancellationToken).ConfigureAwait(false);
        return new NatsFramePublisher(connection, SubjectOf(broadcast));
    }

    /// <inheritdoc/>
    public Task WaitPublishedAsync(int broadcasts, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public async Task<IAsyncDisposable> ConnectSubscriberAsync(IReadOnlyList<(int Broadcast, SubscriptionStats Stats)> subscriptions, CancellationToken cancellationToken)
    {
        var subjects = subscriptions.Select(s => SubjectOf(s.Broadcast)).ToList();
        var stats = subscriptions.Select(s => s.Stats).ToArray();
        return await NatsConnection.ConnectAsync(server, subjects, (sid, payload) =>
        {
            var span = payload.Span;
            if (FramePayload.TryRead(span, out _, out var sequence))
                stats[sid - 1].OnFrame(span, sequence / groupFrames);
        }, errors, cancellationToken).ConfigureAwait(false);
    }
}
