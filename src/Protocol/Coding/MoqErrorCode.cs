namespace MoqCluster.Protocol.Coding;

/// <summary>
/// Stream reset, stop-sending and session close codes, as used by the reference implementation
/// (spec §5.10). Codes are opaque to the JavaScript clients; they only surface the number.
/// </summary>
public enum MoqErrorCode : ulong
{
    /// <summary>Normal cancellation; also what a plain drop sends.</summary>
    Cancel = 0,
    /// <summary>A required extension is missing.</summary>
    RequiredExtension = 1,
    /// <summary>The group was superseded by a newer one.</summary>
    Old = 2,
    /// <summary>An operation timed out.</summary>
    Timeout = 3,
    /// <summary>The transport failed.</summary>
    Transport = 4,
    /// <summary>A message could not be decoded.</summary>
    Decode = 5,
    /// <summary>Not authorized (also used when a token expires).</summary>
    Unauthorized = 6,
    /// <summary>No common version.</summary>
    Version = 9,
    /// <summary>Unknown or forbidden stream type.</summary>
    UnexpectedStream = 10,
    /// <summary>A configured bound (size, count) was exceeded.</summary>
    BoundsExceeded = 11,
    /// <summary>A duplicate (announcement, subscribe id).</summary>
    Duplicate = 12,
    /// <summary>The broadcast or track does not exist.</summary>
    NotFound = 13,
    /// <summary>A length did not match its content.</summary>
    WrongSize = 14,
    /// <summary>The peer broke a protocol rule.</summary>
    ProtocolViolation = 15,
    /// <summary>A message arrived where it is not allowed.</summary>
    UnexpectedMessage = 16,
    /// <summary>The request is not supported by this version or endpoint.</summary>
    Unsupported = 17,
    /// <summary>A message could not be encoded.</summary>
    Encode = 18,
    /// <summary>Too many parameters.</summary>
    TooManyParameters = 19,
    /// <summary>The role does not allow this.</summary>
    InvalidRole = 20,
    /// <summary>Unknown ALPN / protocol string.</summary>
    UnknownAlpn = 21,
    /// <summary>The group or subscription was dropped.</summary>
    Dropped = 24,
    /// <summary>The session or resource is closed.</summary>
    Closed = 25,
    /// <summary>A consumer fell too far behind.</summary>
    Lagged = 26,
    /// <summary>A frame exceeded the size limit.</summary>
    FrameTooLarge = 27,
    /// <summary>Frame timestamps were inconsistent.</summary>
    TimestampMismatch = 29,
    /// <summary>No route to the requested broadcast.</summary>
    Unroutable = 30,
    /// <summary>The group was evicted from the cache.</summary>
    Evicted = 31,
    /// <summary>A graceful server shutdown (GOAWAY followed by close).</summary>
    GoingAway = 64 + 1,
}
