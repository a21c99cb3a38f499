using System.Threading.Channels;

namespace MoqCluster.Silo;

/// <summary>
/// Fan-out of changes to any number of async readers, each starting from a snapshot. The owner
/// publishes and subscribes under its own state lock, so a reader's snapshot and the changes that
/// follow it never overlap or leave a gap.
/// </summary>
/// <typeparam name="T">The change type.</typeparam>
internal sealed class ChangeFeed<T>
{
    private readonly List<Channel<T>> _readers = [];

    /// <summary>Send a change to every reader. Call under the owner's lock.</summary>
    public void Publish(T change)
    {
        foreach (var reader in _readers)
        {
            reader.Writer.TryWrite(change);
        }
    }

    /// <summary>Add a reader whose first items are <paramref name="snapshot"/>. Call under the owner's lock.</summary>
    public Channel<T> Add(IEnumerable<T> snapshot)
    {
        // Unbounded: directory and membership changes are small and rare next to media traffic,
        // and dropping one would leave the reader with a wrong view for good.
        var channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        foreach (var item in snapshot)
        {
            channel.Writer.TryWrite(item);
        }

        _readers.Add(channel);
        return channel;
    }

    /// <summary>Remove a reader. Call under the owner's lock.</summary>
    public void Remove(Channel<T> channel)
    {
        _readers.Remove(channel);
        channel.Writer.TryComplete();
    }

    /// <summary>End every reader's sequence (the owner stopped). Call under the owner's lock.</summary>
    public void Complete()
    {
        foreach (var reader in _readers)
        {
            reader.Writer.TryComplete();
        }

        _readers.Clear();
    }
}
