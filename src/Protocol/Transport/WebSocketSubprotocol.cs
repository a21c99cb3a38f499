using System.Diagnostics.CodeAnalysis;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// One <c>Sec-WebSocket-Protocol</c> value as the MoQ WebSocket polyfills use it (spec §2.3.1): a wire-format
/// tag (<c>webtransport</c>, <c>qmux-00</c>, <c>qmux-01</c>, <c>qmux-02</c>), optionally followed by
/// <c>.</c> and an application protocol such as <c>moq-lite-04</c> or <c>moql</c>.
/// </summary>
/// <param name="WireFormat">The framing spoken on the socket.</param>
/// <param name="ApplicationProtocol">The suffix after the dot; null for a bare wire-format tag.</param>
public readonly record struct WebSocketSubprotocol(QMuxWireFormat WireFormat, string? ApplicationProtocol)
{
    /// <summary>The tag for the legacy framing of <c>@moq/web-transport-ws</c>.</summary>
    public const string LegacyTag = "webtransport";

    /// <summary>
    /// True when the moq-lite version is negotiated by legacy SETUP afterwards (no suffix, or <c>moql</c>).
    /// </summary>
    public bool UsesLegacySetup => ApplicationProtocol is null or MoqVersions.LegacyAlpn;

    /// <summary>The moq-lite version implied by the suffix; null for legacy SETUP and for non-lite protocols.</summary>
    public MoqVersion? Version => MoqVersions.FromAlpn(ApplicationProtocol);

    /// <summary>The wire-format tag alone, e.g. <c>qmux-00</c>.</summary>
    public static string Tag(QMuxWireFormat format) => format switch
    {
        QMuxWireFormat.Legacy => LegacyTag,
        QMuxWireFormat.Qmux00 => "qmux-00",
        QMuxWireFormat.Qmux01 => "qmux-01",
        QMuxWireFormat.Qmux02 => "qmux-02",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown wire format"),
    };

    /// <summary>The exact header token, e.g. <c>qmux-00.moq-lite-04</c>.</summary>
    public override string ToString() =>
        ApplicationProtocol is null ? Tag(WireFormat) : $"{Tag(WireFormat)}.{ApplicationProtocol}";

    /// <summary>
    /// Parses a header token. Matching is ordinal and case-sensitive because the server must echo a value
    /// the client offered byte for byte. Unknown tags (and an empty suffix) fail.
    /// </summary>
    public static bool TryParse(string? value, [NotNullWhen(true)] out WebSocketSubprotocol? subprotocol)
    {
        subprotocol = null;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var dot = value.IndexOf('.');
        var tag = dot < 0 ? value : value[..dot];
        string? suffix = dot < 0 ? null : value[(dot + 1)..];
        if (suffix is { Length: 0 })
        {
            return false;
        }

        QMuxWireFormat? format = tag switch
        {
            LegacyTag => QMuxWireFormat.Legacy,
            "qmux-00" => QMuxWireFormat.Qmux00,
            "qmux-01" => QMuxWireFormat.Qmux01,
            "qmux-02" => QMuxWireFormat.Qmux02,
            _ => null,
        };
        if (format is null)
        {
            return false;
        }

        // The known protocol strings as constants: one string less held by every session.
        if (MoqVersions.FromAlpn(suffix) is { } version)
            suffix = version.Alpn();
        else if (suffix == MoqVersions.LegacyAlpn)
            suffix = MoqVersions.LegacyAlpn;
        subprotocol = new WebSocketSubprotocol(format.Value, suffix);
        return true;
    }
}
