using System.Collections.Concurrent;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Session;

namespace MoqCluster.Edge.Relay;

/// <summary>
/// The sessions a relay is serving, so a shutdown can drain them: GOAWAY to each (lite-04+), a short wait for
/// peers to leave, then a clean close (code 0). Once draining starts no session is admitted.
/// </summary>
public sealed class LiveSessions
{
    private readonly ConcurrentDictionary<MoqSession, byte> _sessions = new();
    private int _handshakes;
    private volatile bool _draining;
    private volatile bool _closing;

    /// <summary>True once <see cref="DrainAsync"/> started: new sessions are refused.</summary>
    public bool IsDraining => _draining;

    /// <summary>Number of sessions being served.</summary>
    public int Count => _sessions.Count;

    /// <summary>
    /// Admits a connection into its handshake; false when draining (refuse it). A drain waits for admitted
    /// handshakes so their sessions get GOAWAY too. Pair with <see cref="EndHandshake"/>.
    /// </summary>
    public bool TryBeginHandshake()
    {
        Interlocked.Increment(ref _handshakes);
        if (!_draining)
            return true;
        EndHandshake();
        return false;
    }

    /// <summary>The handshake admitted by <see cref="TryBeginHandshake"/> finished (either way).</summary>
    public void EndHandshake() => Interlocked.Decrement(ref _handshakes);

    /// <summary>Tracks a session; false when the drain already told the others to go (the caller closes it).</summary>
    public bool TryAdd(MoqSession session)
    {
        if (_closing)
            return false;
        _sessions.TryAdd(session, 0);
        // A drain that started meanwhile may have missed it.
        if (!_closing)
            return true;
        _sessions.TryRemove(session, out _);
        return false;
    }

    /// <summary>Stops tracking a session.</summary>
    public void Remove(MoqSession session) => _sessions.TryRemove(session, out _);

    /// <summary>
    /// Sends GOAWAY (with <paramref name="newSessionUri"/>, possibly empty) to every session, waits up to
    /// <paramref name="drain"/> for them to close, then closes the rest with code 0.
    /// </summary>
    /// <returns>How many sessions were told to go away, and how many had to be closed by us.</returns>
    public async Task<(int Told, int Closed)> DrainAsync(TimeSpan drain, string newSessionUri, CancellationToken cancellationToken = default)
    {
        _draining = true;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(drain);
        // Sessions still negotiating are about to be served: let them finish so they get GOAWAY as well.
        while (Volatile.Read(ref _handshakes) > 0 && !deadline.IsCancellationRequested)
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        _closing = true;
        var sessions = _sessions.Keys.ToList();
        await Task.WhenAll(sessions.Select(s => GoAwayAsync(s, newSessionUri, deadline.Token))).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(sessions.Select(s => (Task)s.Closed)).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Drain time is up: whoever is still here is closed below.
        }
        var remaining = 0;
        foreach (var session in sessions)
        {
            if (session.Closed.IsCompleted)
                continue;
            remaining++;
            session.Close(MoqErrorCode.Cancel, "relay shutting down");
        }
        return (sessions.Count, remaining);
    }

    private static async Task GoAwayAsync(MoqSession session, string uri, CancellationToken ct)
    {
        try
        {
            await session.GoAwayAsync(uri, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ProtocolException)
        {
            // A session that cannot take a GOAWAY any more is closed with the others.
        }
    }
}
