namespace MoqCluster.Protocol.Coding;

/// <summary>A moq-lite protocol error carrying the wire code that reports it.</summary>
public class ProtocolException : Exception
{
    /// <summary>Creates an error with a code and a human-readable reason.</summary>
    public ProtocolException(MoqErrorCode code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    /// <summary>The code sent in the reset, stop-sending or session close this error causes.</summary>
    public MoqErrorCode Code { get; }
}

/// <summary>Bytes from the peer could not be decoded (malformed, truncated, trailing bytes, oversize).</summary>
public sealed class DecodeException : ProtocolException
{
    /// <summary>Creates a decode error; oversize inputs use <see cref="MoqErrorCode.BoundsExceeded"/>.</summary>
    public DecodeException(string message, MoqErrorCode code = MoqErrorCode.Decode) : base(code, message) { }
}
