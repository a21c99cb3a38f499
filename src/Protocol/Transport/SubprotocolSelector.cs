using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Chooses the WebSocket subprotocol for an upgrade (spec §1.5, §2.3.1): the first entry of the
/// <em>server's</em> preference list that the client offered.
/// </summary>
/// <remarks>
/// <para>The preference list is built from the enabled versions (newest first) and wire formats: for each
/// lite-03+ protocol string, every enabled QMux format in order (<c>qmux-00</c> first by default because it
/// needs no QX_PING handling), then <c>qmux-0N.moql</c>, then bare <c>qmux-0N</c> and finally bare
/// <c>webtransport</c>. Version is the major key so a client that offers only <c>qmux-01.moq-lite-05</c> still
/// gets lite-05 rather than SETUP-negotiated lite-02.</para>
/// <para><c>webtransport.&lt;alpn&gt;</c> is never selected (no target client offers it and <c>@moq/qmux</c>
/// 0.3.3 ignores the suffix), nor are IETF <c>moqt-*</c> / <c>moq-00</c> protocols, which are out of scope.</para>
/// </remarks>
public sealed class SubprotocolSelector
{
    private readonly HashSet<string> _preferenceSet;

    /// <summary>Builds a selector from an explicit preference list (first = most preferred).</summary>
    /// <param name="preference">Header tokens; each must parse as a <see cref="WebSocketSubprotocol"/>.</param>
    /// <param name="acceptNoSubprotocol">
    /// Whether a client offering no subprotocol at all is accepted as legacy <c>webtransport</c> framing with
    /// legacy SETUP (what the Rust relay does).
    /// </param>
    public SubprotocolSelector(IEnumerable<string> preference, bool acceptNoSubprotocol = true)
    {
        ArgumentNullException.ThrowIfNull(preference);
        var list = new List<string>();
        foreach (var entry in preference)
        {
            if (!WebSocketSubprotocol.TryParse(entry, out var parsed))
            {
                throw new ArgumentException($"'{entry}' is not a MoQ WebSocket subprotocol", nameof(preference));
            }

            if (!IsSelectable(parsed.Value))
            {
                throw new ArgumentException(
                    $"'{entry}' cannot be selected: only qmux-0N with moq-lite-0N, moql or no suffix, and bare webtransport",
                    nameof(preference));
            }

            if (!list.Contains(entry, StringComparer.Ordinal))
            {
                list.Add(entry);
            }
        }

        Preference = list;
        _preferenceSet = new HashSet<string>(list, StringComparer.Ordinal);
        AcceptNoSubprotocol = acceptNoSubprotocol;
    }

    /// <summary>Wire formats in default preference order: qmux-00 (no pings needed), qmux-01, qmux-02, legacy.</summary>
    public static IReadOnlyList<QMuxWireFormat> DefaultWireFormats { get; } =
        [QMuxWireFormat.Qmux00, QMuxWireFormat.Qmux01, QMuxWireFormat.Qmux02, QMuxWireFormat.Legacy];

    /// <summary>Every version and every wire format enabled, qmux-00 preferred.</summary>
    public static SubprotocolSelector Default { get; } = For(MoqVersions.All, DefaultWireFormats);

    /// <summary>The server's preference list, most preferred first.</summary>
    public IReadOnlyList<string> Preference { get; }

    /// <summary>Whether a client offering no subprotocol is accepted (legacy framing, legacy SETUP).</summary>
    public bool AcceptNoSubprotocol { get; }

    /// <summary>
    /// Builds the preference list for the given versions and wire formats (see remarks on the class).
    /// </summary>
    /// <param name="versions">Enabled moq-lite versions; order does not matter (newest is preferred).</param>
    /// <param name="wireFormats">Enabled wire formats in preference order.</param>
    public static SubprotocolSelector For(IEnumerable<MoqVersion> versions, IEnumerable<QMuxWireFormat> wireFormats)
    {
        var enabled = versions.ToHashSet();
        var formats = wireFormats.Distinct().ToList();
        var qmux = formats.Where(f => f != QMuxWireFormat.Legacy).ToList();
        var legacySetup = enabled.Contains(MoqVersion.Lite02) || enabled.Contains(MoqVersion.Lite01);

        var preference = new List<string>();
        foreach (var version in enabled.Where(v => v.Alpn() is not null).OrderByDescending(v => (uint)v))
        {
            preference.AddRange(qmux.Select(f => new WebSocketSubprotocol(f, version.Alpn()).ToString()));
        }

        if (legacySetup)
        {
            preference.AddRange(qmux.Select(f => new WebSocketSubprotocol(f, MoqVersions.LegacyAlpn).ToString()));
            preference.AddRange(qmux.Select(f => new WebSocketSubprotocol(f, null).ToString()));
            if (formats.Contains(QMuxWireFormat.Legacy))
            {
                preference.Add(WebSocketSubprotocol.LegacyTag);
            }
        }

        return new SubprotocolSelector(preference, legacySetup && formats.Contains(QMuxWireFormat.Legacy));
    }

    /// <summary>
    /// Whether a server may ever select <paramref name="subprotocol"/>: not <c>webtransport.&lt;alpn&gt;</c> (no target
    /// client offers it and <c>@moq/qmux</c> 0.3.3 ignores the suffix) and not an IETF <c>moqt-*</c> / <c>moq-00</c>
    /// protocol (out of scope).
    /// </summary>
    public static bool IsSelectable(WebSocketSubprotocol subprotocol) => subprotocol.WireFormat == QMuxWireFormat.Legacy
        ? subprotocol.ApplicationProtocol is null
        : subprotocol.UsesLegacySetup || subprotocol.Version is not null;

    /// <summary>
    /// Picks the subprotocol for a client's offer.
    /// </summary>
    /// <param name="offered">
    /// The client's <c>Sec-WebSocket-Protocol</c> tokens in its order (already split on commas; surrounding
    /// whitespace is ignored). Empty when the header was absent.
    /// </param>
    /// <returns>The selection, or a refusal when the client offered subprotocols and none is acceptable.</returns>
    public SubprotocolSelection Select(IEnumerable<string> offered)
    {
        ArgumentNullException.ThrowIfNull(offered);
        var offeredSet = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in offered)
        {
            var trimmed = token.Trim();
            if (trimmed.Length > 0)
            {
                offeredSet.Add(trimmed);
            }
        }

        if (offeredSet.Count == 0)
        {
            return AcceptNoSubprotocol
                ? new SubprotocolSelection(true, null, QMuxWireFormat.Legacy, null)
                : SubprotocolSelection.Reject("no subprotocol offered and legacy webtransport framing is disabled");
        }

        foreach (var candidate in Preference)
        {
            if (offeredSet.Contains(candidate))
            {
                WebSocketSubprotocol.TryParse(candidate, out var parsed);
                return new SubprotocolSelection(true, candidate, parsed!.Value.WireFormat, parsed.Value.ApplicationProtocol);
            }
        }

        return SubprotocolSelection.Reject(
            $"none of the offered subprotocols is supported (offered: {string.Join(", ", offeredSet)}; supported: {string.Join(", ", Preference)})");
    }
}
