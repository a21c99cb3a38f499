using System.Threading.Channels;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Model;

/// <summary>
/// A live feed of announcements under a prefix: the snapshot taken when it was created
/// (<see cref="Initial"/>), then every change. Paths are relative to the view's root. Dispose to stop.
/// </summary>
public sealed class AnnouncedConsumer : IDisposable
{
    private readonly Origin _origin;
    private readonly MoqPath _root;
    private readonly MoqPath _prefix;
    private readonly IReadOnlyList<MoqPath> _allowed;
    private readonly Channel<Announcement> _updates = Channel.CreateUnbounded<Announcement>(new UnboundedChannelOptions { SingleReader = true });
    private IReadOnlyList<Announcement> _initial = [];

    internal AnnouncedConsumer(Origin origin, MoqPath root, MoqPath prefix, IReadOnlyList<MoqPath> allowed)
    {
        _origin = origin;
        _root = root;
        _prefix = prefix;
        _allowed = allowed;
    }

    /// <summary>The requested prefix, relative to the root.</summary>
    public MoqPath Prefix => _prefix;

    /// <summary>Broadcasts active when the feed was created, sorted by path.</summary>
    public IReadOnlyList<Announcement> Initial => _initial;

    /// <summary>The next change; null once disposed.</summary>
    public async ValueTask<Announcement?> NextAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _updates.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Returns a change that is already queued, without waiting.</summary>
    public bool TryNext(out Announcement? announcement)
    {
        var ok = _updates.Reader.TryRead(out var a);
        announcement = a;
        return ok;
    }

    internal void SetInitial(IReadOnlyList<Announcement> initial) => _initial = initial;

    /// <summary>The path relative to the root when it is visible through this feed; null otherwise.</summary>
    internal MoqPath? Relative(MoqPath absolute)
    {
        if (absolute.StripPrefix(_root) is not { } rel || !rel.HasPrefix(_prefix))
            return null;
        foreach (var a in _allowed)
            if (rel.HasPrefix(a))
                return rel;
        return null;
    }

    internal void Deliver(MoqPath absolute, Publication? active)
    {
        if (Relative(absolute) is { } rel)
            _updates.Writer.TryWrite(new Announcement(rel, active?.Broadcast, active?.Hops ?? []));
    }

    /// <summary>Stops the feed. Idempotent.</summary>
    public void Dispose()
    {
        _origin.StopListening(this);
        _updates.Writer.TryComplete();
    }
}
