using System.Net.Quic;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Whether raw QUIC (System.Net.Quic over msquic) is available in this process, and why not when it isn't.
/// </summary>
public static class QuicSupport
{
    private static readonly Lazy<string?> Reason = new(Probe);

    /// <summary>True when both QUIC listeners and QUIC connections can be created here.</summary>
    public static bool IsSupported => Reason.Value is null;

    /// <summary>Why QUIC is unavailable (for logs and skipped tests); null when it is supported.</summary>
    public static string? UnsupportedReason => Reason.Value;

    /// <summary>Throws <see cref="PlatformNotSupportedException"/> with <see cref="UnsupportedReason"/> when unsupported.</summary>
    public static void ThrowIfUnsupported()
    {
        if (UnsupportedReason is { } reason)
        {
            throw new PlatformNotSupportedException(reason);
        }
    }

    private static string? Probe()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()))
        {
            return "System.Net.Quic is not available on this operating system; QUIC disabled, use WebSocket or TCP";
        }

        if (QuicListener.IsSupported && QuicConnection.IsSupported)
        {
            return null;
        }

        // On Linux and macOS .NET loads libmsquic (2.x) at run time; on Windows msquic ships with .NET but needs
        // Windows 11 / Server 2022 or newer for the TLS 1.3 Schannel support it relies on.
        return OperatingSystem.IsWindows()
            ? "msquic unavailable (needs Windows 11 / Server 2022+); QUIC disabled, use WebSocket or TCP"
            : "libmsquic not found (install libmsquic 2.x); QUIC disabled, use WebSocket or TCP";
    }
}
