using System.Net.Security;
using Microsoft.Extensions.Logging;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

/// <summary>Client-side settings for <see cref="MoqWebSocketClient"/>.</summary>
public sealed record MoqWebSocketClientOptions
{
    /// <summary>
    /// The default offer: <c>qmux-00.moq-lite-05</c>, <c>qmux-00.moq-lite-04</c>, <c>qmux-00.moq-lite-03</c>,
    /// <c>qmux-00.moql</c>, <c>qmux-00</c>, <c>webtransport</c>. qmux-00 carries the version and needs no pings.
    /// </summary>
    public static IReadOnlyList<string> DefaultSubprotocols { get; } =
        OfferFor(MoqVersions.All, [QMuxWireFormat.Qmux00, QMuxWireFormat.Legacy]);

    /// <summary>Shared defaults (declared after <see cref="DefaultSubprotocols"/>, which it reads).</summary>
    public static MoqWebSocketClientOptions Default { get; } = new();

    /// <summary>The <c>Sec-WebSocket-Protocol</c> values offered, in preference order.</summary>
    public IReadOnlyList<string> Subprotocols { get; init; } = DefaultSubprotocols;

    /// <summary>
    /// Whether the server certificate is validated for <c>wss://</c> (default true). False accepts any certificate:
    /// development only. Ignored when <see cref="CertificateValidation"/> is set.
    /// </summary>
    public bool VerifyCertificate { get; init; } = true;

    /// <summary>A custom certificate check (e.g. pinning a self-signed certificate); overrides <see cref="VerifyCertificate"/>.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    /// <summary>Extra request headers (e.g. <c>Origin</c>, <c>User-Agent</c>).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Upper bound on the TCP/TLS connect plus HTTP upgrade. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval of client WebSocket keep-alive heartbeats (unsolicited Pongs, RFC 6455 §5.5.3); <see cref="TimeSpan.Zero"/> disables them. Default 15 s.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Limits advertised to and enforced on the server; <see cref="QMuxOptions.MaxIncomingRecordSize"/> also bounds
    /// every WebSocket message.
    /// </summary>
    public QMuxOptions QMux { get; init; } = QMuxOptions.Default;

    /// <summary>Receives one line per abnormal close.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>The offer for a set of versions and wire formats, in the same order a server would prefer them.</summary>
    public static IReadOnlyList<string> OfferFor(IEnumerable<MoqVersion> versions, IEnumerable<QMuxWireFormat> wireFormats) =>
        SubprotocolSelector.For(versions, wireFormats).Preference;
}
