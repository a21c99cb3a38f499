using System.Net;
using System.Net.Quic;
using System.Threading.Channels;

// CA1416: a QuicMoqConnection only ever wraps a live QuicConnection, which QuicMoqListener/QuicMoqClient create
// after QuicSupport.ThrowIfUnsupported(), i.e. only on platforms where System.Net.Quic works.
#pragma warning disable CA1416

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// moq-lite over raw QUIC (spec §2.1): moq-lite streams are QUIC streams and codes are QUIC application error
/// codes. The version is the negotiated ALPN; there is no URL, so lite-05 clients send their path in SETUP.
/// </summary>
public sealed class QuicMoqConnection : IMoqConnection
{
    private readonly QuicConnection _connection;
    private readonly Channel<IBidiStream> _bidi = Channel.CreateUnbounded<IBidiStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Channel<IRecvStream> _uni = Channel.CreateUnbounded<IRecvStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<ConnectionCloseInfo> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _acceptLoop;
    private Task _closing = Task.CompletedTask;
    private int _disposed;

    internal QuicMoqConnection(QuicConnection connection)
    {
        _connection = connection;
        var alpn = connection.NegotiatedApplicationProtocol.ToString();
        ApplicationProtocol = string.IsNullOrEmpty(alpn) ? null : alpn;
        RemoteEndPoint = connection.RemoteEndPoint;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <inheritdoc />
    public string? ApplicationProtocol { get; }

    /// <inheritdoc />
    public string TransportName => "quic";

    /// <inheritdoc />
    /// <remarks>Always true: raw QUIC carries no URL (spec §2.1).</remarks>
    public bool IsUrlLess => true;

    /// <summary>The peer's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <inheritdoc />
    public Task<ConnectionCloseInfo> Closed => _closed.Task;

    /// <inheritdoc />
    public async ValueTask<IBidiStream> OpenBidiAsync(CancellationToken cancellationToken = default) =>
        new QuicBidiStream(await OpenAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async ValueTask<ISendStream> OpenUniAsync(CancellationToken cancellationToken = default) =>
        new QuicSendStream(await OpenAsync(QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async ValueTask<IBidiStream?> AcceptBidiAsync(CancellationToken cancellationToken = default) =>
        await _bidi.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _bidi.Reader.TryRead(out var stream) ? stream : null;

    /// <inheritdoc />
    public async ValueTask<IRecvStream?> AcceptUniAsync(CancellationToken cancellationToken = default) =>
        await _uni.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _uni.Reader.TryRead(out var stream) ? stream : null;

    /// <inheritdoc />
    /// <remarks>QUIC's CONNECTION_CLOSE in System.Net.Quic carries no reason phrase; the reason is only local.</remarks>
    public void Close(ulong code, string reason)
    {
        if (!_closed.TrySetResult(new ConnectionCloseInfo(code, reason, ByPeer: false)))
        {
            return;
        }

        _closing = CloseQuietlyAsync(code);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Close(0, "disposed");
        await _closing.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
    }

    private async ValueTask<QuicStream> OpenAsync(QuicStreamType type, CancellationToken cancellationToken)
    {
        if (_closed.Task.IsCompleted)
        {
            var info = _closed.Task.Result;
            throw new ConnectionClosedException(info.Code, $"connection closed: {info.Reason}");
        }

        try
        {
            // Waits for stream credit (MAX_STREAMS) from the peer, as the interface requires.
            var stream = await _connection.OpenOutboundStreamAsync(type, cancellationToken).ConfigureAwait(false);
            Track(stream);
            return stream;
        }
        catch (QuicException e)
        {
            throw QuicExceptionMapping.ForConnection(e);
        }
        catch (ObjectDisposedException)
        {
            throw new ConnectionClosedException(0, "connection disposed");
        }
    }

    /// <summary>
    /// QUIC delivers bidi and uni streams through one accept call; this loop sorts them into the two queues until
    /// the connection ends, and records why it ended.
    /// </summary>
    private async Task AcceptLoopAsync()
    {
        // Let the constructor return before the first await completes synchronously.
        await Task.Yield();
        try
        {
            while (true)
            {
                var stream = await _connection.AcceptInboundStreamAsync().ConfigureAwait(false);
                Track(stream);
                if (stream.Type == QuicStreamType.Bidirectional)
                {
                    _bidi.Writer.TryWrite(new QuicBidiStream(stream));
                }
                else
                {
                    _uni.Writer.TryWrite(new QuicRecvStream(stream));
                }
            }
        }
        catch (QuicException e)
        {
            _closed.TrySetResult(QuicExceptionMapping.CloseInfo(e));
        }
        catch (ObjectDisposedException)
        {
            _closed.TrySetResult(new ConnectionCloseInfo(0, "disposed", ByPeer: false));
        }
        catch (Exception e)
        {
            _closed.TrySetResult(new ConnectionCloseInfo((ulong)Coding.MoqErrorCode.Transport, e.Message, ByPeer: false));
        }
        finally
        {
            _bidi.Writer.TryComplete();
            _uni.Writer.TryComplete();
        }
    }

    /// <summary>Disposes each stream once both directions are finished, so long sessions don't accumulate them.</summary>
    private static void Track(QuicStream stream) =>
        _ = Task.WhenAll(stream.ReadsClosed, stream.WritesClosed).ContinueWith(
            static (task, state) =>
            {
                _ = task.Exception; // aborted streams are normal; observe so they don't reach UnobservedTaskException
                return ((QuicStream)state!).DisposeAsync().AsTask();
            },
            stream,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default).Unwrap();

    private async Task CloseQuietlyAsync(ulong code)
    {
        try
        {
            await _connection.CloseAsync(QuicExceptionMapping.ToWire(code)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QuicException or ObjectDisposedException)
        {
            // Already closed by the peer or by an idle timeout: nothing to tell it.
        }
    }
}
