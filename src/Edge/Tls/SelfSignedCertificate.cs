using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MoqCluster.Edge.Tls;

/// <summary>
/// Generates the development certificate browsers accept by hash (<c>serverCertificateHashes</c>, spec §2.2):
/// ECDSA P-256, valid for less than 14 days, with the given DNS names and IP addresses as subject alternative names.
/// </summary>
public static class SelfSignedCertificate
{
    /// <summary>Total validity, kept under the 14-day ceiling browsers impose on pinned certificates.</summary>
    public static TimeSpan Validity { get; } = TimeSpan.FromDays(13);

    /// <summary>Creates the certificate (with its private key) for <paramref name="names"/> (host names or IP literals).</summary>
    public static X509Certificate2 Create(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
            throw new ArgumentException("at least one name is required", nameof(names));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
                san.AddIpAddress(address);
            else
                san.AddDnsName(name);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        // Back-date a little for clock skew; the whole window stays within Validity.
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
        using var created = request.CreateSelfSigned(notBefore, notBefore + Validity);
        // Re-import so the key is usable by SslStream on every platform (ephemeral keys are not on Windows).
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
