using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Unicode;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// What RFC 6455 and our bounds allow in a received frame, for either role: the server refuses unmasked frames, the
/// client masked ones; both refuse reserved bits and opcodes, bad control frames, text, broken fragmentation and
/// messages over the record bound, and malformed Close payloads.
/// </summary>
internal static class WebSocketFrameRules
{
    /// <summary>Why we refuse the peer's input: our close status and reason, and the exception the caller gets.</summary>
    public readonly record struct Refusal(WebSocketCloseStatus Status, string CloseReason, ulong Code, string Message);

    /// <summary>Validates a frame header; null when acceptable.</summary>
    /// <param name="header">The decoded header.</param>
    /// <param name="oversizedLength">The 64-bit length had its top bit set.</param>
    /// <param name="peerMasks">True when the peer is a client (its frames must be masked), false for a server (must not).</param>
    /// <param name="inMessage">A fragmented message is being assembled.</param>
    /// <param name="messageLength">Bytes of that message so far.</param>
    /// <param name="maxIncomingRecordSize">Largest message accepted.</param>
    public static Refusal? Check(in WebSocketFraming.WireHeader header, bool oversizedLength, bool peerMasks, bool inMessage, int messageLength, int maxIncomingRecordSize)
    {
        if (header.Reserved)
        {
            return ProtocolError("reserved bits set without a negotiated extension");
        }

        if (!WebSocketFraming.IsKnownOpcode(header.Opcode))
        {
            return ProtocolError($"reserved opcode 0x{header.Opcode:x}");
        }

        if (header.Masked != peerMasks)
        {
            return ProtocolError(peerMasks ? "unmasked client frame" : "masked server frame");
        }

        if (oversizedLength)
        {
            return ProtocolError("64-bit payload length with the most significant bit set");
        }

        if (WebSocketFraming.IsControl(header.Opcode))
        {
            return !header.Fin || header.PayloadLength > WebSocketFraming.MaxControlPayload
                ? ProtocolError("fragmented control frame or control payload over 125 bytes")
                : null;
        }

        if (header.Opcode == WebSocketFraming.OpContinuation)
        {
            if (!inMessage)
            {
                return ProtocolError("continuation frame without a message to continue");
            }
        }
        else if (inMessage)
        {
            return ProtocolError("new message inside a fragmented one");
        }
        else if (header.Opcode == WebSocketFraming.OpText)
        {
            return new Refusal(WebSocketCloseStatus.ProtocolError, "text messages are not allowed",
                MoqErrorCodeProtocol, "websocket text message (only binary is allowed)");
        }

        if (header.PayloadLength > maxIncomingRecordSize - messageLength)
        {
            return new Refusal(WebSocketCloseStatus.MessageTooBig, "record too large",
                MoqErrorCodeBounds, $"websocket message exceeds {maxIncomingRecordSize} bytes");
        }

        return null;
    }

    /// <summary>Reads the peer's Close payload (RFC 6455 §5.5.1, §7.4); null when it is well-formed.</summary>
    /// <param name="payload">The unmasked Close payload.</param>
    /// <param name="status">The peer's status, <see cref="WebSocketCloseStatus.Empty"/> for none.</param>
    /// <param name="description">The peer's reason, empty for none.</param>
    public static Refusal? ReadClose(ReadOnlySpan<byte> payload, out WebSocketCloseStatus status, out string description)
    {
        status = WebSocketCloseStatus.Empty;
        description = "";
        if (payload.Length == 0)
        {
            return null;
        }

        if (payload.Length == 1)
        {
            return ProtocolError("close frame with a 1-byte payload");
        }

        var code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (code is not (>= 1000 and <= 1003 or >= 1007 and <= 1014 or >= 3000 and <= 4999))
        {
            return ProtocolError($"invalid close code {code}");
        }

        if (!Utf8.IsValid(payload[2..]))
        {
            return new Refusal(WebSocketCloseStatus.InvalidPayloadData, "close reason is not UTF-8",
                MoqErrorCodeProtocol, "websocket protocol error: close reason is not UTF-8");
        }

        status = (WebSocketCloseStatus)code;
        description = Encoding.UTF8.GetString(payload[2..]);
        return null;
    }

    private static Refusal ProtocolError(string why) =>
        new(WebSocketCloseStatus.ProtocolError, why, MoqErrorCodeProtocol, $"websocket protocol error: {why}");

    private const ulong MoqErrorCodeProtocol = (ulong)Coding.MoqErrorCode.ProtocolViolation;
    private const ulong MoqErrorCodeBounds = (ulong)Coding.MoqErrorCode.BoundsExceeded;
}
