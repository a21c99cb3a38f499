using System.Net.Quic;

// CA1416: only constructed from a live QuicConnection, which exists only where System.Net.Quic is supported.
#pragma warning disable CA1416

namespace MoqCluster.Protocol.Transport;

/// <summary>The receiving half of a <see cref="QuicStream"/>.</summary>
internal sealed class QuicRecvStream(QuicStream stream) : IRecvStream
{
    private long _stopCode = -1;

    public long Id => stream.Id;

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException e)
        {
            var stop = Interlocked.Read(ref _stopCode);
            throw QuicExceptionMapping.ForStream(e, stop >= 0 ? (ulong)stop : null);
        }
    }

    public void StopSending(ulong code)
    {
        if (Interlocked.CompareExchange(ref _stopCode, QuicExceptionMapping.ToWire(code), -1) != -1)
        {
            return;
        }

        try
        {
            stream.Abort(QuicAbortDirection.Read, QuicExceptionMapping.ToWire(code));
        }
        catch (ObjectDisposedException)
        {
            // Already gone with its connection.
        }
    }
}
