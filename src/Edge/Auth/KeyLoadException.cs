namespace MoqCluster.Edge.Auth;

/// <summary>A JWK could not be read or used: bad JSON, unsupported algorithm or curve, weak or missing material.</summary>
/// <param name="message">What is wrong, phrased for the operator (never contains key material).</param>
/// <param name="inner">The underlying parse or crypto error, if any.</param>
public sealed class KeyLoadException(string message, Exception? inner = null) : Exception(message, inner);
