using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MoqCluster.Edge.Tls;

/// <summary>
/// The TLS certificate the edge serves on HTTPS (and QUIC): loaded from PEM files (<c>--Tls:Cert</c>,
/// <c>--Tls:Key</c>) or, when none is configured, a freshly generated self-signed one
/// (<see cref="SelfSignedCertificate"/>). Its SHA-256 fingerprint is published at <c>/certificate.sha256</c>.
/// </summary>
public sealed class ServerCertificate
{
    private ServerCertificate(X509Certificate2 certificate, bool generated, string source)
    {
        Certificate = certificate;
        IsGenerated = generated;
        Source = source;
        Sha256Hex = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }

    /// <summary>The certificate with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>True for a generated self-signed certificate.</summary>
    public bool IsGenerated { get; }

    /// <summary>Where it came from, for the startup log line.</summary>
    public string Source { get; }

    /// <summary>SHA-256 of the DER encoding, lowercase hex without separators (64 characters), as browsers pin it.</summary>
    public string Sha256Hex { get; }

    /// <summary>
    /// Loads the configured PEM pair, or generates a self-signed certificate for <c>Tls:Names</c>
    /// (default <c>localhost,127.0.0.1,::1</c>) when <c>Tls:Cert</c> is not set.
    /// </summary>
    /// <exception cref="InvalidOperationException">Only one of cert/key is set, or the files cannot be loaded.</exception>
    public static ServerCertificate Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var certPath = configuration["Tls:Cert"];
        var keyPath = configuration["Tls:Key"];
        if (string.IsNullOrEmpty(certPath) && string.IsNullOrEmpty(keyPath))
        {
            var names = (configuration["Tls:Names"] ?? "localhost,127.0.0.1,::1")
                .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var generated = SelfSignedCertificate.Create(names);
            return new ServerCertificate(generated, generated: true, $"self-signed ECDSA P-256 for {string.Join(", ", names)}");
        }
        if (string.IsNullOrEmpty(certPath) || string.IsNullOrEmpty(keyPath))
            throw new InvalidOperationException("TLS needs both --Tls:Cert and --Tls:Key (PEM files)");
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            // Re-import so the key is usable by SslStream on every platform (ephemeral PEM keys are not on Windows).
            var usable = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            return new ServerCertificate(usable, generated: false, certPath);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot load TLS certificate '{certPath}' with key '{keyPath}': {ex.Message}", ex);
        }
    }
}
