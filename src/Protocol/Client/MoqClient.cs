using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Session;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Client;

/// <summary>
/// A moq-lite client: connect to a relay, publish broadcasts, consume broadcasts by path and discover
/// announcements. Paths are relative to the URL path (the session root).
/// </summary>
/// <example>
/// <code>
/// await using var client = await MoqClient.ConnectAsync(new Uri("http://127.0.0.1:4443/anon"));
/// var broadcast = client.Publish("room/alice");
/// var video = broadcast.CreateTrack("video");
/// var group = video.AppendGroup();
/// group.WriteFrame("hello"u8.ToArray());
/// group.Finish();
/// </code>
/// </example>
/// <remarks>
/// moq-lite has no wire field for broadcast or track metadata (titles, codecs); applications carry it in a
/// track of their own (the npm libraries use a <c>catalog.json</c> track by convention).
/// </remarks>
public sealed class MoqClient : IAsyncDisposable
{
    private readonly Origin _published = new();

    private MoqClient(MoqSession session) => Session = session;

    /// <summary>The session underneath (version, close, GOAWAY).</summary>
    public MoqSession Session { get; private set; }

    /// <summary>The negotiated version.</summary>
    public MoqVersion Version => Session.Version;

    /// <summary>Completes when the connection closes.</summary>
    public Task<ConnectionCloseInfo> Closed => Session.Closed;

    /// <summary>
    /// Connects to <paramref name="url"/>: <c>http(s)://</c> or <c>ws(s)://</c> over WebSocket (QMux),
    /// <c>tcp://host:port/path</c> over QMux/TCP (lite-05), <c>quic://host:port/path</c> over raw QUIC when
    /// this platform supports it.
    /// </summary>
    /// <exception cref="ProtocolException">Unauthorized (HTTP 401/403), version or handshake failures, with their code.</exception>
    /// <exception cref="ConnectionClosedException">The transport failed.</exception>
    public static async Task<MoqClient> ConnectAsync(Uri url, MoqClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= new MoqClientOptions();
        var withToken = WithToken(url, options.Token);
        var connection = await OpenAsync(withToken, options, cancellationToken).ConfigureAwait(false);
        var client = new MoqClient(null!);
        var sessionOptions = new SessionOptions
        {
            Publish = client._published.Consumer(),
            Subscribe = null,
            Versions = options.Versions,
            Limits = options.Limits,
            Logger = options.Logger,
            Observer = options.Observer,
            SubscribedTrackCacheBytes = options.SubscribedTrackCacheBytes,
            HandshakeTimeout = options.ConnectTimeout,
            SetupPath = withToken.PathAndQuery,
        };
        try
        {
            client.Session = await MoqSession.ConnectAsync(connection, sessionOptions, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return client;
    }

    private static async Task<IMoqConnection> OpenAsync(Uri url, MoqClientOptions options, CancellationToken ct)
    {
        switch (url.Scheme)
        {
            case "http" or "https" or "ws" or "wss":
                try
                {
                    var wsOptions = new MoqWebSocketClientOptions
                    {
                        VerifyCertificate = options.VerifyCertificate,
                        ConnectTimeout = options.ConnectTimeout,
                        Subprotocols = options.Subprotocols ?? MoqWebSocketClientOptions.OfferFor(options.Versions, [QMuxWireFormat.Qmux00, QMuxWireFormat.Legacy]),
                    };
                    return await MoqWebSocketClient.ConnectAsync(url, wsOptions, ct).ConfigureAwait(false);
                }
                catch (WebSocketConnectException ex) when (ex.StatusCode is 401 or 403)
                {
                    throw new ProtocolException(MoqErrorCode.Unauthorized, $"relay refused the session: HTTP {ex.StatusCode}", ex);
                }
                catch (WebSocketConnectException ex)
                {
                    throw new ConnectionClosedException((ulong)MoqErrorCode.Transport, ex.Message);
                }
            case "tcp":
                return await QMuxTcpClient.ConnectAsync(url.Host, url.Port, logger: options.Logger, cancellationToken: ct).ConfigureAwait(false);
            case "quic" or "moqt":
                QuicSupport.ThrowIfUnsupported();
                return await QuicMoqClient.ConnectAsync(new System.Net.DnsEndPoint(url.Host, url.Port),
                    new QuicMoqClientOptions { VerifyCertificate = options.VerifyCertificate, ConnectTimeout = options.ConnectTimeout }, ct).ConfigureAwait(false);
            default:
                throw new ArgumentException($"unsupported scheme '{url.Scheme}' (http, https, ws, wss, tcp, quic)", nameof(url));
        }
    }

    private static Uri WithToken(Uri url, string? token)
    {
        if (string.IsNullOrEmpty(token))
            return url;
        var builder = new UriBuilder(url);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : "") + "jwt=" + Uri.EscapeDataString(token);
        return builder.Uri;
    }

    /// <summary>
    /// Publishes a new broadcast at <paramref name="path"/>; the relay learns it through its ANNOUNCE_PLEASE.
    /// Finish the returned producer to unannounce.
    /// </summary>
    /// <exception cref="ProtocolException">BoundsExceeded when the path has more than the allowed segments.</exception>
    public BroadcastProducer Publish(string path)
    {
        var normalised = ValidPath(path);
        var broadcast = new BroadcastProducer();
        _published.Publish(normalised, broadcast.Consume());
        return broadcast;
    }

    /// <summary>Consumes the broadcast at <paramref name="path"/>; subscribe to its tracks with <see cref="BroadcastConsumer.Subscribe"/>.</summary>
    public BroadcastConsumer Consume(string path) => Session.Consume(ValidPath(path));

    /// <summary>Discovers broadcasts under <paramref name="prefix"/>: the current set, then every change.</summary>
    public AnnouncedConsumer Announced(string prefix = "") => Session.Announced(ValidPath(prefix));

    private MoqPath ValidPath(string path)
    {
        var normalised = MoqPath.Parse(path);
        if (normalised.SegmentCount > Session.Options.Limits.MaxPathSegments)
            throw new ProtocolException(MoqErrorCode.BoundsExceeded, $"path has {normalised.SegmentCount} segments (limit {Session.Options.Limits.MaxPathSegments})");
        return normalised;
    }

    /// <summary>Closes the session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Session is not null)
            await Session.DisposeAsync().ConfigureAwait(false);
    }
}
