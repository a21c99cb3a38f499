using Microsoft.Extensions.Options;

namespace MoqCluster.Edge.Relay;

/// <summary>
/// Graceful shutdown: when the host starts stopping (SIGTERM, Ctrl-C), before Kestrel and the listeners stop,
/// every live session gets GOAWAY, then <see cref="EdgeOptions.DrainTimeout"/> to leave, then a clean close.
/// </summary>
internal sealed class RelayDrain(RelayHost relay, IOptions<EdgeOptions> options, ILogger<RelayDrain> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var drain = options.Value.DrainTimeout;
        logger.LogInformation("draining {Count} session(s): GOAWAY, then up to {Drain} before closing", relay.Sessions.Count, drain);
        var (told, closed) = await relay.Sessions.DrainAsync(drain, options.Value.GoAwayUri, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("drain done: {Told} session(s) told to go away, {Closed} closed at the deadline", told, closed);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
