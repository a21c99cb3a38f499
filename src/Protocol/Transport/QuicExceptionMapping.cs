using System.Net.Quic;
using MoqCluster.Protocol.Coding;

// CA1416: System.Net.Quic types are annotated for Windows/Linux/macOS. This code only runs once a
// QuicConnection exists, which QuicMoqListener/QuicMoqClient create only after QuicSupport.IsSupported.
#pragma warning disable CA1416

namespace MoqCluster.Protocol.Transport;

/// <summary>Translates <see cref="QuicException"/> into the transport-neutral stream and connection errors.</summary>
internal static class QuicExceptionMapping
{
    /// <summary>The exception a stream operation surfaces for <paramref name="e"/>.</summary>
    /// <param name="e">The QUIC failure.</param>
    /// <param name="localAbortCode">The code we aborted this direction with ourselves, if we did.</param>
    public static IOException ForStream(QuicException e, ulong? localAbortCode) => e.QuicError switch
    {
        QuicError.StreamAborted => new StreamAbortedException(Code(e), $"stream aborted by peer (code {Code(e)})"),
        QuicError.OperationAborted when localAbortCode is { } code => new StreamAbortedException(code, $"stream aborted locally (code {code})"),
        _ => ForConnection(e),
    };

    /// <summary>The exception a connection-level operation surfaces for <paramref name="e"/>.</summary>
    public static ConnectionClosedException ForConnection(QuicException e) => e.QuicError switch
    {
        QuicError.ConnectionAborted => new ConnectionClosedException(Code(e), $"connection closed by peer (code {Code(e)})"),
        QuicError.ConnectionIdle => new ConnectionClosedException((ulong)MoqErrorCode.Timeout, "connection idle timeout"),
        QuicError.OperationAborted => new ConnectionClosedException(0, "connection closed locally"),
        _ => new ConnectionClosedException((ulong)MoqErrorCode.Transport, $"quic failure: {e.QuicError}: {e.Message}"),
    };

    /// <summary>How the connection ended, for <see cref="IMoqConnection.Closed"/>.</summary>
    public static ConnectionCloseInfo CloseInfo(QuicException e) => e.QuicError switch
    {
        QuicError.ConnectionAborted => new ConnectionCloseInfo(Code(e), "closed by peer", ByPeer: true),
        QuicError.ConnectionIdle => new ConnectionCloseInfo((ulong)MoqErrorCode.Timeout, "idle timeout", ByPeer: true),
        QuicError.ConnectionTimeout => new ConnectionCloseInfo((ulong)MoqErrorCode.Timeout, "connection timeout", ByPeer: true),
        _ => new ConnectionCloseInfo((ulong)MoqErrorCode.Transport, $"quic failure: {e.QuicError}", ByPeer: true),
    };

    /// <summary>Clamps an application code into QUIC's varint range (abort codes above 2^62-1 throw).</summary>
    public static long ToWire(ulong code) => (long)Math.Min(code, VarInt.MaxValue);

    private static ulong Code(QuicException e) => e.ApplicationErrorCode is { } code and >= 0 ? (ulong)code : 0;
}
