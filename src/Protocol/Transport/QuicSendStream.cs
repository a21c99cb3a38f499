using System.Net.Quic;

// CA1416: only constructed from a live QuicConnection, which exists only where System.Net.Quic is supported.
#pragma warning disable CA1416

namespace MoqCluster.Protocol.Transport;

/// <summary>The sending half of a <see cref="QuicStream"/>.</summary>
internal sealed class QuicSendStream : ISendStream
{
    private readonly QuicStream _stream;
    private readonly TaskCompletionSource<ulong> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _resetCode = -1;

    public QuicSendStream(QuicStream stream)
    {
        _stream = stream;
        // WritesClosed faults with StreamAborted + the peer's code when it sends STOP_SENDING. Other outcomes
        // (FIN acknowledged, our own reset, connection loss) are not a stop, so Stopped stays pending.
        _ = stream.WritesClosed.ContinueWith(
            static (task, state) =>
            {
                if (task.Exception?.InnerException is QuicException { QuicError: QuicError.StreamAborted, ApplicationErrorCode: { } code })
                {
                    ((TaskCompletionSource<ulong>)state!).TrySetResult((ulong)code);
                }
            },
            _stopped,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public long Id => _stream.Id;

    /// <remarks>System.Net.Quic exposes no stream priority, so over raw QUIC this is recorded but not enforced.</remarks>
    public long SendOrder { get; set; }

    public Task<ulong> Stopped => _stopped.Task;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool fin = false, CancellationToken cancellationToken = default)
    {
        try
        {
            await _stream.WriteAsync(data, fin, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException e)
        {
            var reset = Interlocked.Read(ref _resetCode);
            throw QuicExceptionMapping.ForStream(e, reset >= 0 ? (ulong)reset : null);
        }
    }

    public void Reset(ulong code)
    {
        if (Interlocked.CompareExchange(ref _resetCode, QuicExceptionMapping.ToWire(code), -1) != -1)
        {
            return;
        }

        try
        {
            _stream.Abort(QuicAbortDirection.Write, QuicExceptionMapping.ToWire(code));
        }
        catch (ObjectDisposedException)
        {
            // Already gone with its connection: nothing left to reset.
        }
    }
}
