using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Messages;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Session;

/// <summary>
/// One moq-lite session over a connection, for either role and both directions: it serves
/// <see cref="SessionOptions.Publish"/> to the peer and publishes what the peer announces into
/// <see cref="SessionOptions.Subscribe"/>. The version decides the wire details; the model is shared, which
/// is how a relay translates between sessions of different versions.
/// </summary>
public sealed class MoqSession : IAsyncDisposable
{
    private readonly IMoqConnection _connection;
    private readonly CancellationTokenSource _cts = new();
    private readonly TaskCompletionSource<Setup> _peerSetup = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SessionPublisher? _publisher;
    private SessionSubscriber _subscriber = null!;
    private int _closed;
    private int _limitViolations;

    private MoqSession(IMoqConnection connection, SessionOptions options, bool isServer)
    {
        _connection = connection;
        Options = options;
        IsServer = isServer;
        Logger = options.Logger ?? NullLogger.Instance;
        _ = connection.Closed.ContinueWith(static (_, cts) => ((CancellationTokenSource)cts!).Cancel(), _cts, TaskScheduler.Default);
    }

    /// <summary>The negotiated version.</summary>
    public MoqVersion Version { get; private set; }

    /// <summary>True for the accepting (server) side.</summary>
    public bool IsServer { get; }

    /// <summary>The connection underneath.</summary>
    public IMoqConnection Connection => _connection;

    /// <summary>The options the session runs with.</summary>
    public SessionOptions Options { get; }

    /// <summary>The peer's origin id from its lite-05 SETUP, 0 when unknown.</summary>
    public ulong PeerOrigin { get; private set; }

    /// <summary>The peer's lite-05 SETUP Path (URL-less transports), if any.</summary>
    public string? PeerSetupPath { get; private set; }

    /// <summary>Set when the peer sent GOAWAY (lite-04+), with the URI it gave (possibly empty).</summary>
    public string? GoAwayUri { get; private set; }

    /// <summary>Completes when the session's connection closes.</summary>
    public Task<ConnectionCloseInfo> Closed => _connection.Closed;

    internal ILogger Logger { get; }

    internal CancellationToken Token => _cts.Token;

    internal ProtocolLimits Limits => Options.Limits;

    /// <summary>Accepts a session on a connection a client opened: negotiates, then serves until closed.</summary>
    public static async Task<MoqSession> AcceptAsync(IMoqConnection connection, SessionOptions options, CancellationToken cancellationToken = default)
    {
        var session = new MoqSession(connection, options, isServer: true);
        await session.StartAsync(cancellationToken).ConfigureAwait(false);
        return session;
    }

    /// <summary>Starts a client session on a connection we opened: negotiates, then runs until closed.</summary>
    public static async Task<MoqSession> ConnectAsync(IMoqConnection connection, SessionOptions options, CancellationToken cancellationToken = default)
    {
        var session = new MoqSession(connection, options, isServer: false);
        await session.StartAsync(cancellationToken).ConfigureAwait(false);
        return session;
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
        timeout.CancelAfter(Options.HandshakeTimeout);
        try
        {
            await NegotiateAsync(timeout.Token).ConfigureAwait(false);
            var handshake = new SessionHandshake
            {
                Version = Version,
                SetupPath = PeerSetupPath,
                PeerOrigin = PeerOrigin,
                Role = _peerSetup.Task.IsCompletedSuccessfully ? _peerSetup.Task.Result.Role ?? SetupRole.Both : SetupRole.Both,
                Publish = Options.Publish,
                Subscribe = Options.Subscribe,
            };
            if (IsServer && Options.OnHandshake is { } callback)
                await callback(handshake).ConfigureAwait(false);
            _publisher = handshake.Publish is { } publish ? new SessionPublisher(this, publish) : null;
            _subscriber = new SessionSubscriber(this, handshake.Subscribe);
            _ = RunBidiLoopAsync();
            _subscriber.Start();
        }
        catch (Exception ex)
        {
            var (code, reason) = ex switch
            {
                ProtocolException pe => (pe.Code, pe.Message),
                OperationCanceledException when !cancellationToken.IsCancellationRequested => (MoqErrorCode.Timeout, "handshake timed out"),
                _ => (MoqErrorCode.Transport, ex.Message),
            };
            Logger.LogWarning("moq session handshake failed on {Transport}: {Reason} (code {Code})", _connection.TransportName, reason, code);
            Close(code, reason);
            if (ex is ProtocolException)
                throw;
            throw new ProtocolException(code, reason, ex);
        }
    }

    private async Task NegotiateAsync(CancellationToken ct)
    {
        var protocol = _connection.ApplicationProtocol;
        if (MoqVersions.FromAlpn(protocol) is { } alpnVersion)
        {
            if (!Options.Versions.Contains(alpnVersion))
                throw new ProtocolException(MoqErrorCode.Version, $"{alpnVersion.Name()} is disabled");
            Version = alpnVersion;
        }
        else if (string.IsNullOrEmpty(protocol) || protocol == MoqVersions.LegacyAlpn)
        {
            Version = IsServer ? await AcceptLegacySetupAsync(ct).ConfigureAwait(false) : await SendLegacySetupAsync(ct).ConfigureAwait(false);
        }
        else
        {
            throw new ProtocolException(MoqErrorCode.UnknownAlpn, $"unsupported application protocol '{protocol}'");
        }

        _ = RunUniLoopAsync();
        if (Version.HasSetupStream())
        {
            await SendSetupAsync(ct).ConfigureAwait(false);
            if (IsServer)
            {
                // The server learns the path and role before serving anything (as the reference relay).
                var setup = await _peerSetup.Task.WaitAsync(ct).ConfigureAwait(false);
                PeerOrigin = setup.Origin ?? 0;
                PeerSetupPath = setup.Path;
            }
        }
        Logger.LogDebug("moq session {Role} negotiated {Version} over {Transport}", IsServer ? "server" : "client", Version.Name(), _connection.TransportName);
    }

    private async Task<MoqVersion> AcceptLegacySetupAsync(CancellationToken ct)
    {
        var stream = await _connection.AcceptBidiAsync(ct).ConfigureAwait(false)
            ?? throw new ProtocolException(MoqErrorCode.Closed, "connection closed before CLIENT_SETUP");
        var reader = new MoqStreamReader(stream.Recv, Limits);
        var type = await reader.ReadVarIntAsync(ct).ConfigureAwait(false);
        if (type != ClientSetup.Type)
            throw new ProtocolException(MoqErrorCode.Version, $"expected CLIENT_SETUP (0x20), got stream type 0x{type:x}");
        var lengthBytes = await reader.ReadSpanAsync(2, ct).ConfigureAwait(false);
        var length = (lengthBytes.Span[0] << 8) | lengthBytes.Span[1];
        var payload = await reader.ReadSpanAsync(length, ct).ConfigureAwait(false);
        var versions = ClientSetup.DecodeVersions(payload.Span, Limits);
        MoqVersion? chosen = null;
        foreach (var code in versions)
        {
            if (code is (ulong)MoqVersion.Lite01 or (ulong)MoqVersion.Lite02 && Options.Versions.Contains((MoqVersion)(uint)code))
            {
                chosen = (MoqVersion)(uint)code;
                break;
            }
        }
        if (chosen is not { } version)
            throw new ProtocolException(MoqErrorCode.Version, $"no common version in CLIENT_SETUP [{string.Join(", ", versions.Select(v => $"0x{v:x}"))}]");
        using var writer = new MessageWriter();
        new ServerSetup(version).Encode(writer);
        await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: ct).ConfigureAwait(false);
        _ = KeepSessionStreamAsync(reader);
        return version;
    }

    private async Task<MoqVersion> SendLegacySetupAsync(CancellationToken ct)
    {
        var offered = Options.Versions.Where(v => v.UsesLegacySetup()).Select(v => (ulong)v).ToList();
        if (offered.Count == 0)
            throw new ProtocolException(MoqErrorCode.Version, "no SETUP-negotiated version (lite-01/02) is enabled");
        var stream = await _connection.OpenBidiAsync(ct).ConfigureAwait(false);
        using (var writer = new MessageWriter())
        {
            new ClientSetup(offered, []).Encode(writer);
            await stream.Send.WriteAsync(writer.WrittenMemory, cancellationToken: ct).ConfigureAwait(false);
        }
        var reader = new MoqStreamReader(stream.Recv, Limits);
        var type = await reader.ReadVarIntAsync(ct).ConfigureAwait(false);
        if (type != ServerSetup.Type)
            throw new ProtocolException(MoqErrorCode.Version, $"expected SERVER_SETUP (0x21), got 0x{type:x}");
        var lengthBytes = await reader.ReadSpanAsync(2, ct).ConfigureAwait(false);
        var length = (lengthBytes.Span[0] << 8) | lengthBytes.Span[1];
        var payload = await reader.ReadSpanAsync(length, ct).ConfigureAwait(false);
        var message = new MessageReader(payload.Span, Limits);
        var server = ServerSetup.DecodeBody(ref message);
        if (server.Version is not { } version || !offered.Contains((ulong)version))
            throw new ProtocolException(MoqErrorCode.Version, $"server selected a version we did not offer: 0x{server.SelectedVersion:x}");
        _ = KeepSessionStreamAsync(reader);
        return version;
    }

    /// <summary>The lite-01/02 session stream stays open and silent; SESSION_INFO is read and ignored. Its end ends the session.</summary>
    private async Task KeepSessionStreamAsync(MoqStreamReader reader)
    {
        try
        {
            await reader.DrainAsync(Token).ConfigureAwait(false);
            Close(MoqErrorCode.Cancel, "session stream closed by peer");
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Close(MoqErrorCode.Transport, $"session stream failed: {ex.Message}");
        }
        finally
        {
            reader.Dispose();
        }
    }

    private async Task SendSetupAsync(CancellationToken ct)
    {
        var setup = new Setup
        {
            Origin = Options.OriginId,
            Path = !IsServer && _connection.IsUrlLess ? Options.SetupPath : null,
            Role = IsServer ? null : Options.Role,
        };
        var stream = await _connection.OpenUniAsync(ct).ConfigureAwait(false);
        using var writer = new MessageWriter();
        writer.WriteVarInt((ulong)UniStreamType.Setup);
        MessageCodec.Encode(writer, setup, Version);
        await stream.WriteAsync(writer.WrittenMemory, fin: true, ct).ConfigureAwait(false);
    }

    private async Task RunBidiLoopAsync()
    {
        try
        {
            while (!Token.IsCancellationRequested)
            {
                // No token: accepting ends with the connection (null), and the session's token is cancelled only
                // when the connection closes; registering it would cost every idle session a callback node per loop.
                var stream = await _connection.AcceptBidiAsync().ConfigureAwait(false);
                if (stream is null)
                    return;
                _ = HandleBidiAsync(stream);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionClosedException)
        {
        }
    }

    private async Task HandleBidiAsync(IBidiStream stream)
    {
        var reader = new MoqStreamReader(stream.Recv, Limits);
        var handedOver = false;
        try
        {
            var type = await reader.TryReadVarIntAsync(Token).ConfigureAwait(false);
            if (type is null)
                return;
            switch ((StreamType)type.Value)
            {
                case StreamType.Announce when _publisher is not null:
                    await _publisher.ServeAnnounceAsync(stream, reader).ConfigureAwait(false);
                    break;
                case StreamType.Subscribe when _publisher is not null:
                    // Not awaited: the subscription owns the reader and its errors from here, so this method (usually
                    // complete without ever waiting: the type arrives with the stream) holds no task for its lifetime.
                    handedOver = true;
                    _ = _publisher.ServeSubscribeAsync(stream, reader);
                    break;
                case StreamType.Track when Version.HasTrackInfo() && _publisher is not null:
                    await _publisher.ServeTrackAsync(stream, reader).ConfigureAwait(false);
                    break;
                case StreamType.Fetch when Version.HasTrackInfo() && _publisher is not null:
                    await _publisher.ServeFetchAsync(stream, reader).ConfigureAwait(false);
                    break;
                case StreamType.Announce or StreamType.Subscribe or StreamType.Track or StreamType.Fetch:
                    // We publish nothing on this session (or the version has no such request).
                    RefuseStream(stream, type == (ulong)StreamType.Subscribe || type == (ulong)StreamType.Track ? MoqErrorCode.NotFound : MoqErrorCode.Unsupported);
                    break;
                case StreamType.Probe when Version.HasProbe() && !Version.HasSetupStream():
                    // @moq/lite 0.2.2 treats any error on this stream as fatal: keep it open and silent.
                    await reader.DrainAsync(Token).ConfigureAwait(false);
                    break;
                case StreamType.GoAway when Version.HasGoAway():
                    var goAway = await reader.ReadMessageAsync<GoAway>(Version, Token).ConfigureAwait(false);
                    GoAwayUri = goAway.NewSessionUri;
                    Logger.LogInformation("moq peer sent GOAWAY (uri '{Uri}')", goAway.NewSessionUri);
                    break;
                default:
                    if (!Version.ResetsUnknownStreams())
                        throw new ProtocolException(MoqErrorCode.UnexpectedStream, $"unexpected bidi stream type 0x{type:x}");
                    Logger.LogDebug("moq resetting unknown bidi stream type 0x{Type:x}", type);
                    RefuseStream(stream, MoqErrorCode.UnexpectedStream);
                    break;
            }
        }
        catch (Exception ex)
        {
            HandleStreamError(ex, stream.Send, stream.Recv);
        }
        finally
        {
            if (!handedOver)
                reader.Dispose();
        }
    }

    private async Task RunUniLoopAsync()
    {
        try
        {
            while (!Token.IsCancellationRequested)
            {
                // No token: accepting ends with the connection (null), and the session's token is cancelled only
                // when the connection closes; registering it would cost every idle session a callback node per loop.
                var stream = await _connection.AcceptUniAsync().ConfigureAwait(false);
                if (stream is null)
                    return;
                _ = HandleUniAsync(stream);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionClosedException)
        {
        }
    }

    private async Task HandleUniAsync(IRecvStream stream)
    {
        var reader = new MoqStreamReader(stream, Limits);
        var handedOver = false;
        try
        {
            var type = await reader.TryReadVarIntAsync(Token).ConfigureAwait(false);
            if (type is null)
                return;
            switch ((UniStreamType)type.Value)
            {
                case UniStreamType.Group:
                    // The subscriber half may not exist yet while a lite-05 server waits for SETUP; nothing was asked then.
                    if (_subscriber is { } subscriber)
                    {
                        // Not awaited: the group owns the reader and its errors from here, so this method (usually
                        // complete without ever waiting: the type arrives with the stream) adds no task per group.
                        handedOver = true;
                        _ = subscriber.ReceiveGroupAsync(reader);
                    }
                    else
                    {
                        stream.StopSending((ulong)MoqErrorCode.NotFound);
                    }
                    break;
                case UniStreamType.Setup when Version.HasSetupStream():
                    // Read to FIN: a stopped Setup stream is fatal to @moq/net 0.3.4.
                    var setup = await reader.ReadMessageAsync<Setup>(Version, Token).ConfigureAwait(false);
                    if (!_peerSetup.TrySetResult(setup))
                        throw new ProtocolException(MoqErrorCode.ProtocolViolation, "second SETUP stream");
                    PeerOrigin = setup.Origin ?? 0;
                    await reader.DrainAsync(Token).ConfigureAwait(false);
                    break;
                default:
                    if (!Version.ResetsUnknownStreams())
                        throw new ProtocolException(MoqErrorCode.UnexpectedStream, $"unexpected uni stream type 0x{type:x}");
                    stream.StopSending((ulong)MoqErrorCode.UnexpectedStream);
                    break;
            }
        }
        catch (Exception ex)
        {
            HandleStreamError(ex, null, stream);
        }
        finally
        {
            if (!handedOver)
                reader.Dispose();
        }
    }

    private static void RefuseStream(IBidiStream stream, MoqErrorCode code)
    {
        stream.Send.Reset((ulong)code);
        stream.Recv.StopSending((ulong)code);
    }

    /// <summary>
    /// Decides who pays for a failure on one stream: decode and protocol errors that only concern this
    /// stream reset it; session-level violations close the session; transport failures just end the stream.
    /// </summary>
    internal void HandleStreamError(Exception ex, ISendStream? send, IRecvStream? recv)
    {
        switch (ex)
        {
            case OperationCanceledException or ConnectionClosedException:
                return;
            case StreamAbortedException:
                send?.Reset((ulong)MoqErrorCode.Cancel);
                return;
            case ProtocolException { Code: MoqErrorCode.Duplicate or MoqErrorCode.ProtocolViolation or MoqErrorCode.UnexpectedStream } pe:
                Logger.LogWarning("moq closing session ({Transport}, {Version}): {Reason}", _connection.TransportName, Version.Name(), pe.Message);
                Close(pe.Code, pe.Message);
                return;
            case ProtocolException pe:
                Logger.LogInformation("moq resetting stream {Id}: {Reason} (code {Code})", send?.Id ?? recv?.Id, pe.Message, pe.Code);
                send?.Reset((ulong)pe.Code);
                recv?.StopSending((ulong)pe.Code);
                return;
            default:
                Logger.LogError(ex, "moq stream {Id} failed", send?.Id ?? recv?.Id);
                send?.Reset((ulong)MoqErrorCode.Transport);
                recv?.StopSending((ulong)MoqErrorCode.Transport);
                return;
        }
    }

    /// <summary>
    /// Refuses one request that would exceed a per-session limit: resets its stream with BoundsExceeded, logs the
    /// first offence, and closes the session once the peer has been refused more than
    /// <see cref="SessionOptions.MaxLimitViolations"/> times.
    /// </summary>
    internal void RefuseOverLimit(IBidiStream stream, RequestQuota quota)
    {
        Options.Observer?.LimitExceeded(quota.Name);
        RefuseStream(stream, MoqErrorCode.BoundsExceeded);
        var violations = Interlocked.Increment(ref _limitViolations);
        if (violations == 1)
            Logger.LogWarning("moq peer exceeded its {Limit} limit ({Max}) on {Transport}; resetting such requests with BoundsExceeded", quota.Name, quota.Limit, _connection.TransportName);
        if (violations == Options.MaxLimitViolations + 1)
        {
            Logger.LogWarning("moq closing session: peer kept exceeding its {Limit} limit ({Violations} refused requests)", quota.Name, violations);
            Close(MoqErrorCode.BoundsExceeded, $"too many {quota.Name}");
        }
    }

    /// <summary>
    /// Consumes a broadcast straight from the peer by path (relative to the session root), without
    /// waiting for an announcement: each subscribed track becomes one SUBSCRIBE to the peer.
    /// </summary>
    public BroadcastConsumer Consume(MoqPath path) => _subscriber.FindDiscovered(path) ?? _subscriber.ConsumeDirect(path);

    /// <summary>
    /// Discovers the peer's broadcasts under <paramref name="prefix"/> (relative to the session root): sends one
    /// ANNOUNCE_PLEASE per distinct prefix and returns a feed with the current set, then every change.
    /// </summary>
    public AnnouncedConsumer Announced(MoqPath prefix = default) => _subscriber.Announced(prefix);

    /// <summary>
    /// Tells the peer to stop opening streams and go elsewhere (lite-04+; a no-op on older versions),
    /// the first step of a graceful shutdown.
    /// </summary>
    public async Task GoAwayAsync(string newSessionUri = "", CancellationToken cancellationToken = default)
    {
        if (!Version.HasGoAway())
            return;
        var stream = await _connection.OpenBidiAsync(cancellationToken).ConfigureAwait(false);
        using var writer = new MessageWriter();
        writer.WriteVarInt((ulong)StreamType.GoAway);
        MessageCodec.Encode(writer, new GoAway(newSessionUri), Version);
        await stream.Send.WriteAsync(writer.WrittenMemory, fin: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the session with a code. Idempotent.</summary>
    public void Close(MoqErrorCode code = MoqErrorCode.Cancel, string reason = "")
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        _cts.Cancel();
        _subscriber?.Shutdown();
        _connection.Close((ulong)code, reason);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Close(MoqErrorCode.Cancel, "session disposed");
        await _connection.DisposeAsync().ConfigureAwait(false);
        _cts.Dispose();
    }
}
