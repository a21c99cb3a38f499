using System.Net.Quic;

namespace MoqCluster.Protocol.Transport;

/// <summary>A bidirectional <see cref="QuicStream"/> seen as its two halves.</summary>
internal sealed class QuicBidiStream(QuicStream stream) : IBidiStream
{
#pragma warning disable CA1416 // only constructed from a live QuicConnection (see QuicMoqConnection)
    public long Id { get; } = stream.Id;
#pragma warning restore CA1416

    public ISendStream Send { get; } = new QuicSendStream(stream);

    public IRecvStream Recv { get; } = new QuicRecvStream(stream);
}
