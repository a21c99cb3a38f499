using System.IO.Pipelines;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Pipes over an HTTP/1.1 upgrade stream, for <see cref="WebSocketServerChannel"/> under a server that does not expose
/// the connection's own pipes (anything but Kestrel). Neither pipe holds a buffer while idle: the reader waits for
/// bytes with a zero-byte read before it rents one, and the writer returns its segments on every flush.
/// </summary>
internal sealed class UpgradeStreamPipes : IDuplexPipe
{
    /// <summary>Bytes read from the stream at a time (a power of two, so the pool does not round it up to twice that).</summary>
    private const int ReadBufferSize = 16 * 1024;

    public UpgradeStreamPipes(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(
            bufferSize: ReadBufferSize, minimumReadSize: ReadBufferSize / 4, leaveOpen: true, useZeroByteReads: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }
}
