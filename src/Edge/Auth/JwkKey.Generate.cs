using System.Security.Cryptography;

namespace MoqCluster.Edge.Auth;

public sealed partial class JwkKey
{
    /// <summary>
    /// Generates a fresh key for <paramref name="algorithm"/> (sign and verify allowed): a random secret of the
    /// algorithm's size for HS*, a new P-256/P-384 key for ES*, a 2048-bit RSA key for RS*/PS*.
    /// </summary>
    /// <param name="algorithm">A JOSE algorithm name (see <see cref="TokenAlgorithm.Supported"/>).</param>
    /// <param name="kid">Optional key id.</param>
    /// <param name="scope">Optional ceiling on what tokens signed by the key may grant.</param>
    /// <exception cref="KeyLoadException">EdDSA or an unknown algorithm.</exception>
    public static JwkKey Generate(string algorithm, string? kid = null, KeyScope? scope = null)
    {
        var alg = TokenAlgorithm.Find(algorithm);
        switch (alg.KeyType)
        {
            case JwkKeyType.Oct:
                return new JwkKey(alg, kid, true, true, scope, RandomNumberGenerator.GetBytes(alg.Bytes), null, null);
            case JwkKeyType.EC:
                using (var ec = ECDsa.Create(alg.Curve == "P-256" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384))
                    return new JwkKey(alg, kid, true, true, scope, null, ec.ExportParameters(includePrivateParameters: true), null);
            default:
                using (var rsa = RSA.Create(alg.Bytes * 8))
                    return new JwkKey(alg, kid, true, true, scope, null, null, rsa.ExportParameters(includePrivateParameters: true));
        }
    }
}
