namespace MoqCluster.Bench.Load;

/// <summary>
/// A system under test seen from the generator: publishers that each feed one broadcast (a moq-lite
/// broadcast, a NATS subject) and subscriber sessions that each read a set of broadcasts.
/// </summary>
internal interface ILoadTarget
{
    /// <summary>Short name used in results ("moq", "nats").</summary>
    string Name { get; }

    /// <summary>Opens a session that publishes broadcast number <paramref name="broadcast"/>.</summary>
    Task<IFramePublisher> ConnectPublisherAsync(int broadcast, CancellationToken cancellationToken);

    /// <summary>Returns once the server knows <paramref name="broadcasts"/> broadcasts (subscribing earlier could miss them).</summary>
    Task WaitPublishedAsync(int broadcasts, CancellationToken cancellationToken);

    /// <summary>
    /// Opens one subscriber session reading every broadcast in <paramref name="subscriptions"/>, each into its
    /// stats. Dispose the result to close the session.
    /// </summary>
    Task<IAsyncDisposable> ConnectSubscriberAsync(IReadOnlyList<(int Broadcast, SubscriptionStats Stats)> subscriptions, CancellationToken cancellationToken);
}
