using Microsoft.Extensions.Options;
using MoqCluster.Edge.Relay;
using MoqCluster.Protocol.Coding;
using MoqCluster.Protocol.Model;
using MoqCluster.Protocol.Transport;

namespace MoqCluster.Edge.Http;

/// <summary>
/// <c>GET /fetch/{broadcast}/{track}[?group=N]</c>: the frames of group N (the latest group when absent),
/// concatenated as <c>application/octet-stream</c>; the last path segment is the track. The group number served
/// is in the <c>Moq-Group</c> header. Scoped like a session at the broadcast path (<c>?jwt=</c> or public
/// prefixes). 404 for an unknown broadcast, track or group; 504 when no group arrives within
/// <see cref="EdgeOptions.FetchTimeout"/>.
/// </summary>
internal static class FetchEndpoint
{
    /// <summary>Response header carrying the group sequence served.</summary>
    public const string GroupHeader = "Moq-Group";

    public static async Task Handle(string? path, HttpContext context, RelayHost relay, IOptions<EdgeOptions> options)
    {
        EdgeEndpoints.AllowAnyOrigin(context);
        var response = context.Response;
        var full = MoqPath.Parse(path);
        var split = full.Value.LastIndexOf('/');
        if (split <= 0)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        ulong? wanted = null;
        if (context.Request.Query.TryGetValue("group", out var groupText))
        {
            if (!ulong.TryParse(groupText, out var n))
            {
                response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            wanted = n;
        }
        var broadcastPath = MoqPath.Parse(full.Value[..split]);
        var trackName = full.Value[(split + 1)..];
        var decision = await relay.AuthorizeAsync(broadcastPath, context.Request.Query[MoqWebSocketAcceptor.JwtQueryParameter]);
        if (decision.Grant is not { } grant)
        {
            response.StatusCode = decision.StatusCode;
            return;
        }
        var broadcast = relay.Origin.Consumer(grant.Root, grant.Subscribe).Consume(MoqPath.Empty);
        if (broadcast is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(options.Value.FetchTimeout);
        GroupConsumer? group;
        TrackConsumer? track = null;
        try
        {
            track = broadcast.Subscribe(trackName, new SubscriptionOptions(StartGroup: wanted, EndGroup: wanted));
            group = await FindGroupAsync(track, wanted, timeout.Token);
        }
        catch (ProtocolException)
        {
            // Unknown track, ended broadcast, or the publisher refused or aborted it.
            group = null;
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            track?.Dispose();
            response.StatusCode = StatusCodes.Status504GatewayTimeout;
            return;
        }
        using (track)
        {
            if (group is null)
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/octet-stream";
            response.Headers[GroupHeader] = group.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                while (await group.ReadFrameAsync(context.RequestAborted) is { } frame)
                    await response.Body.WriteAsync(frame.Payload, context.RequestAborted);
            }
            catch (ProtocolException)
            {
                // The group was aborted midway: the body cannot be completed truthfully.
                context.Abort();
            }
        }
    }

    /// <summary>The wanted group (cached or arriving), the latest one when none is named; null when it is gone.</summary>
    private static async Task<GroupConsumer?> FindGroupAsync(TrackConsumer track, ulong? wanted, CancellationToken ct)
    {
        if (wanted is { } n)
        {
            if (track.Track.FindGroup(n) is { } cached)
                return cached.Consume();
            if (track.Track.LatestSequence is { } latest && latest > n)
                return null; // older than anything cached: evicted or never seen
        }
        // Groups past the wanted one are held back by the subscription window, so this yields exactly the one wanted.
        return await track.NextGroupAsync(ct);
    }
}
