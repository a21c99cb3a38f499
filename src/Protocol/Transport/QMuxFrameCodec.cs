using System.Text;
using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Encodes and decodes the frames of the legacy <c>webtransport</c> framing (raw type byte) and QMux
/// drafts 00–02 (varint types, RFC 9000 §19 layouts plus the QX_ extensions), spec §2.3.3–§2.3.5.
/// Encoders write into a caller-sized span and return the bytes written.
/// </summary>
internal static class QMuxFrameCodec
{
    public const ulong PaddingType = 0x00;
    public const ulong QuicPingType = 0x01;
    public const ulong ResetStreamType = 0x04;
    public const ulong StopSendingType = 0x05;
    public const ulong StreamType = 0x08;
    public const ulong StreamOffBit = 0x04;
    public const ulong StreamLenBit = 0x02;
    public const ulong StreamFinBit = 0x01;
    public const ulong MaxDataType = 0x10;
    public const ulong MaxStreamDataType = 0x11;
    public const ulong MaxStreamsBidiType = 0x12;
    public const ulong MaxStreamsUniType = 0x13;
    public const ulong DataBlockedType = 0x14;
    public const ulong StreamDataBlockedType = 0x15;
    public const ulong StreamsBlockedBidiType = 0x16;
    public const ulong StreamsBlockedUniType = 0x17;
    public const ulong ConnectionCloseType = 0x1c;
    public const ulong ApplicationCloseType = 0x1d;
    public const ulong ResetStreamAtType = 0x24;
    public const ulong DatagramType = 0x30;
    public const ulong DatagramLenType = 0x31;
    public const ulong TransportParametersType = 0x3f5153300d0a0d0a;
    public const ulong PingRequestType = 0x348c67529ef8c7bd;
    public const ulong PingResponseType = 0x348c67529ef8c7be;

    /// <summary>Largest STREAM payload in legacy and qmux-00 framing (@moq/qmux 0.0.6 rejects more than 16 360 in both).</summary>
    public const int LegacyMaxStreamPayload = 16000;

    /// <summary>Longest close reason we send, in UTF-8 bytes.</summary>
    public const int MaxReasonBytes = 1024;

    // ---------------------------------------------------------------- decoding

    /// <summary>
    /// Decodes the frame at <paramref name="offset"/> of <paramref name="record"/>; returns the bytes
    /// consumed. Legacy frames always consume the rest of the record.
    /// </summary>
    /// <exception cref="QMuxFrameException">The frame is malformed or of an unknown type.</exception>
    public static int Decode(ReadOnlyMemory<byte> record, int offset, QMuxWireFormat format, out QMuxFrame frame)
    {
        var cursor = new Cursor(record, offset);
        frame = format == QMuxWireFormat.Legacy ? DecodeLegacy(ref cursor) : DecodeQMux(ref cursor);
        return cursor.Position - offset;
    }

    private static QMuxFrame DecodeLegacy(ref Cursor c)
    {
        ulong type = c.Byte(0);
        switch (type)
        {
            case 0x08:
            case 0x09:
            {
                long id = c.StreamId(type);
                return new QMuxFrame { Kind = QMuxFrameKind.Stream, Type = type, StreamId = id, Offset = -1, Data = c.Rest(), Fin = type == 0x09 };
            }
            case ResetStreamType:
            {
                long id = c.StreamId(type);
                ulong code = c.VarInt(type);
                return new QMuxFrame { Kind = QMuxFrameKind.ResetStream, Type = type, StreamId = id, ErrorCode = code, FinalSize = -1 };
            }
            case StopSendingType:
            {
                long id = c.StreamId(type);
                ulong code = c.VarInt(type);
                return new QMuxFrame { Kind = QMuxFrameKind.StopSending, Type = type, StreamId = id, ErrorCode = code };
            }
            case ConnectionCloseType:
            case ApplicationCloseType:
            {
                ulong code = c.VarInt(type);
                string reason = DecodeReason(c.Rest().Span);
                return new QMuxFrame { Kind = type == ConnectionCloseType ? QMuxFrameKind.ConnectionClose : QMuxFrameKind.ApplicationClose, Type = type, ErrorCode = code, Reason = reason };
            }
            default:
                throw new QMuxFrameException(QMuxTransportError.FrameEncodingError, $"unknown legacy frame type 0x{type:x2}", type);
        }
    }

    private static QMuxFrame DecodeQMux(ref Cursor c)
    {
        ulong type = c.VarInt(0);
        switch (type)
        {
            case PaddingType:
            case QuicPingType:
                return new QMuxFrame { Kind = QMuxFrameKind.Padding, Type = type };
            case >= 0x08 and <= 0x0f:
            {
                long id = c.StreamId(type);
                long offset = (type & StreamOffBit) != 0 ? (long)c.VarInt(type) : -1;
                ReadOnlyMemory<byte> data = (type & StreamLenBit) != 0 ? c.Bytes(c.VarInt(type), type) : c.Rest();
                if (offset >= 0 && (ulong)offset + (ulong)data.Length > VarInt.MaxValue)
                    throw new QMuxFrameException(QMuxTransportError.FrameEncodingError, "stream offset overflows 2^62", type);
                return new QMuxFrame { Kind = QMuxFrameKind.Stream, Type = type, StreamId = id, Offset = offset, Data = data, Fin = (type & StreamFinBit) != 0 };
            }
            case ResetStreamType:
            case ResetStreamAtType:
            {
                long id = c.StreamId(type);
                ulong code = c.VarInt(type);
                long finalSize = (long)c.VarInt(type);
                if (type == ResetStreamAtType)
                    c.VarInt(type); // reliable size: treated as a plain reset
                return new QMuxFrame { Kind = QMuxFrameKind.ResetStream, Type = type, StreamId = id, ErrorCode = code, FinalSize = finalSize };
            }
            case StopSendingType:
            {
                long id = c.StreamId(type);
                ulong code = c.VarInt(type);
                return new QMuxFrame { Kind = QMuxFrameKind.StopSending, Type = type, StreamId = id, ErrorCode = code };
            }
            case MaxDataType:
                return new QMuxFrame { Kind = QMuxFrameKind.MaxData, Type = type, Maximum = (long)c.VarInt(type) };
            case MaxStreamDataType:
            {
                long id = c.StreamId(type);
                return new QMuxFrame { Kind = QMuxFrameKind.MaxStreamData, Type = type, StreamId = id, Maximum = (long)c.VarInt(type) };
            }
            case MaxStreamsBidiType:
            case MaxStreamsUniType:
                return new QMuxFrame
                {
                    Kind = type == MaxStreamsBidiType ? QMuxFrameKind.MaxStreamsBidi : QMuxFrameKind.MaxStreamsUni,
                    Type = type,
                    Maximum = (long)c.VarInt(type),
                };
            case DataBlockedType:
            case StreamsBlockedBidiType:
            case StreamsBlockedUniType:
                c.VarInt(type);
                return new QMuxFrame { Kind = QMuxFrameKind.Blocked, Type = type };
            case StreamDataBlockedType:
                c.VarInt(type);
                c.VarInt(type);
                return new QMuxFrame { Kind = QMuxFrameKind.Blocked, Type = type };
            case ConnectionCloseType:
            {
                ulong code = c.VarInt(type);
                ulong frameType = c.VarInt(type);
                string reason = DecodeReason(c.Bytes(c.VarInt(type), type).Span);
                return new QMuxFrame { Kind = QMuxFrameKind.ConnectionClose, Type = type, ErrorCode = code, FrameType = frameType, Reason = reason };
            }
            case ApplicationCloseType:
                return DecodeApplicationClose(ref c);
            case DatagramType:
                return new QMuxFrame { Kind = QMuxFrameKind.Datagram, Type = type, Data = c.Rest() };
            case DatagramLenType:
                return new QMuxFrame { Kind = QMuxFrameKind.Datagram, Type = type, Data = c.Bytes(c.VarInt(type), type) };
            case TransportParametersType:
            {
                var body = c.Bytes(c.VarInt(type), type);
                return new QMuxFrame { Kind = QMuxFrameKind.TransportParameters, Type = type, Parameters = QMuxTransportParameters.Parse(body.Span) };
            }
            case PingRequestType:
            case PingResponseType:
                return new QMuxFrame
                {
                    Kind = type == PingRequestType ? QMuxFrameKind.PingRequest : QMuxFrameKind.PingResponse,
                    Type = type,
                    Sequence = c.VarInt(type),
                };
            default:
                throw new QMuxFrameException(QMuxTransportError.FrameEncodingError, $"unknown frame type 0x{type:x}", type);
        }
    }

    /// <summary>
    /// APPLICATION_CLOSE comes in two shapes: RFC 9000 (code, reason length, reason) and
    /// @moq/qmux 0.0.6's (code, frame type, reason length, reason). Prefer whichever ends exactly at
    /// the end of the record; otherwise take the RFC form, and failing that an empty reason.
    /// </summary>
    private static QMuxFrame DecodeApplicationClose(ref Cursor c)
    {
        ulong type = ApplicationCloseType;
        ulong code = c.VarInt(type);
        var rest = c.Rest();
        string reason = "";
        if (TryReason(rest.Span, skipFrameType: false, out string rfc, out int rfcUsed) && rfcUsed == rest.Length)
            reason = rfc;
        else if (TryReason(rest.Span, skipFrameType: true, out string legacy, out int legacyUsed) && legacyUsed == rest.Length)
            reason = legacy;
        else if (TryReason(rest.Span, skipFrameType: false, out rfc, out _))
            reason = rfc;
        return new QMuxFrame { Kind = QMuxFrameKind.ApplicationClose, Type = type, ErrorCode = code, Reason = reason };
    }

    private static bool TryReason(ReadOnlySpan<byte> span, bool skipFrameType, out string reason, out int used)
    {
        reason = "";
        used = 0;
        if (skipFrameType)
        {
            if (!VarInt.TryRead(span, out _, out int n)) return false;
            used += n;
        }
        if (!VarInt.TryRead(span[used..], out ulong length, out int m)) return false;
        used += m;
        if (length > (ulong)(span.Length - used)) return false;
        reason = DecodeReason(span.Slice(used, (int)length));
        used += (int)length;
        return true;
    }

    private static string DecodeReason(ReadOnlySpan<byte> bytes) =>
        Encoding.UTF8.GetString(bytes.Length > MaxReasonBytes ? bytes[..MaxReasonBytes] : bytes);

    /// <summary>Reads fields from a record, turning truncation into a frame-encoding error.</summary>
    private struct Cursor(ReadOnlyMemory<byte> record, int position)
    {
        private readonly ReadOnlyMemory<byte> _record = record;

        public int Position { get; private set; } = position;

        public byte Byte(ulong frameType)
        {
            if (Position >= _record.Length) throw Truncated(frameType);
            return _record.Span[Position++];
        }

        public ulong VarInt(ulong frameType)
        {
            if (!Coding.VarInt.TryRead(_record.Span[Position..], out ulong value, out int used))
                throw Truncated(frameType);
            Position += used;
            return value;
        }

        public long StreamId(ulong frameType) => (long)VarInt(frameType);

        public ReadOnlyMemory<byte> Bytes(ulong length, ulong frameType)
        {
            if (length > (ulong)(_record.Length - Position)) throw Truncated(frameType);
            var slice = _record.Slice(Position, (int)length);
            Position += (int)length;
            return slice;
        }

        public ReadOnlyMemory<byte> Rest()
        {
            var slice = _record[Position..];
            Position = _record.Length;
            return slice;
        }

        private static QMuxFrameException Truncated(ulong frameType) =>
            new(QMuxTransportError.FrameEncodingError, $"truncated frame 0x{frameType:x}", frameType);
    }

    // ---------------------------------------------------------------- encoding

    /// <summary>Size of a STREAM frame header for a payload of <paramref name="length"/> bytes.</summary>
    public static int StreamHeaderSize(QMuxWireFormat format, long id, long offset, int length) =>
        format == QMuxWireFormat.Legacy
            ? 1 + VarInt.SizeOf((ulong)id)
            : 1 + VarInt.SizeOf((ulong)id) + VarInt.SizeOf((ulong)offset) + VarInt.SizeOf((ulong)length);

    /// <summary>
    /// Writes a STREAM frame header (legacy <c>08</c>/<c>09</c>; QMux <c>0e</c>/<c>0f</c> with offset and
    /// length); the caller appends <paramref name="length"/> payload bytes.
    /// </summary>
    public static int WriteStreamHeader(Span<byte> destination, QMuxWireFormat format, long id, long offset, int length, bool fin)
    {
        int n = 0;
        if (format == QMuxWireFormat.Legacy)
        {
            destination[n++] = fin ? (byte)0x09 : (byte)0x08;
            n += VarInt.Write(destination[n..], (ulong)id);
            return n;
        }
        destination[n++] = (byte)(StreamType | StreamOffBit | StreamLenBit | (fin ? StreamFinBit : 0));
        n += VarInt.Write(destination[n..], (ulong)id);
        n += VarInt.Write(destination[n..], (ulong)offset);
        n += VarInt.Write(destination[n..], (ulong)length);
        return n;
    }

    /// <summary>Writes a complete STREAM frame (tests and small frames).</summary>
    public static int WriteStream(Span<byte> destination, QMuxWireFormat format, long id, long offset, ReadOnlySpan<byte> data, bool fin)
    {
        int n = WriteStreamHeader(destination, format, id, offset, data.Length, fin);
        data.CopyTo(destination[n..]);
        return n + data.Length;
    }

    /// <summary>Writes RESET_STREAM; legacy framing has no final size.</summary>
    public static int WriteResetStream(Span<byte> destination, QMuxWireFormat format, long id, ulong code, long finalSize)
    {
        int n = 0;
        destination[n++] = (byte)ResetStreamType;
        n += VarInt.Write(destination[n..], (ulong)id);
        n += VarInt.Write(destination[n..], code);
        if (format != QMuxWireFormat.Legacy)
            n += VarInt.Write(destination[n..], (ulong)finalSize);
        return n;
    }

    /// <summary>Writes STOP_SENDING (same layout in every framing).</summary>
    public static int WriteStopSending(Span<byte> destination, long id, ulong code)
    {
        int n = 0;
        destination[n++] = (byte)StopSendingType;
        n += VarInt.Write(destination[n..], (ulong)id);
        n += VarInt.Write(destination[n..], code);
        return n;
    }

    /// <summary>Writes MAX_DATA.</summary>
    public static int WriteMaxData(Span<byte> destination, long maximum)
    {
        destination[0] = (byte)MaxDataType;
        return 1 + VarInt.Write(destination[1..], (ulong)maximum);
    }

    /// <summary>Writes MAX_STREAM_DATA.</summary>
    public static int WriteMaxStreamData(Span<byte> destination, long id, long maximum)
    {
        int n = 0;
        destination[n++] = (byte)MaxStreamDataType;
        n += VarInt.Write(destination[n..], (ulong)id);
        n += VarInt.Write(destination[n..], (ulong)maximum);
        return n;
    }

    /// <summary>Writes MAX_STREAMS (bidi 0x12 or uni 0x13).</summary>
    public static int WriteMaxStreams(Span<byte> destination, bool bidi, long maximum)
    {
        destination[0] = (byte)(bidi ? MaxStreamsBidiType : MaxStreamsUniType);
        return 1 + VarInt.Write(destination[1..], (ulong)maximum);
    }

    /// <summary>Upper bound of a close frame's size for a reason of <paramref name="reasonBytes"/> bytes.</summary>
    public static int CloseFrameMaxSize(int reasonBytes) => 1 + 8 + 8 + 8 + reasonBytes;

    /// <summary>
    /// Writes CONNECTION_CLOSE (0x1c: code, frame type, reason length, reason) for QMux, or the legacy
    /// close (0x1d: code, reason to the end) that every legacy client parses.
    /// </summary>
    public static int WriteClose(Span<byte> destination, QMuxWireFormat format, ulong code, ulong frameType, ReadOnlySpan<byte> reason)
    {
        if (format == QMuxWireFormat.Legacy)
        {
            destination[0] = (byte)ApplicationCloseType;
            int n = 1 + VarInt.Write(destination[1..], code);
            reason.CopyTo(destination[n..]);
            return n + reason.Length;
        }
        int m = 0;
        destination[m++] = (byte)ConnectionCloseType;
        m += VarInt.Write(destination[m..], code);
        m += VarInt.Write(destination[m..], frameType);
        m += VarInt.Write(destination[m..], (ulong)reason.Length);
        reason.CopyTo(destination[m..]);
        return m + reason.Length;
    }

    /// <summary>Writes the RFC 9000 APPLICATION_CLOSE (QMux) or the legacy 0x1d close.</summary>
    public static int WriteApplicationClose(Span<byte> destination, QMuxWireFormat format, ulong code, ReadOnlySpan<byte> reason)
    {
        if (format == QMuxWireFormat.Legacy)
            return WriteClose(destination, format, code, 0, reason);
        int n = 0;
        destination[n++] = (byte)ApplicationCloseType;
        n += VarInt.Write(destination[n..], code);
        n += VarInt.Write(destination[n..], (ulong)reason.Length);
        reason.CopyTo(destination[n..]);
        return n + reason.Length;
    }

    /// <summary>Writes a QX_PING request or response.</summary>
    public static int WritePing(Span<byte> destination, bool response, ulong sequence)
    {
        int n = VarInt.Write(destination, response ? PingResponseType : PingRequestType);
        return n + VarInt.Write(destination[n..], sequence);
    }

    /// <summary>Size of a QX_TRANSPORT_PARAMETERS frame.</summary>
    public static int TransportParametersSize(QMuxTransportParameters parameters)
    {
        int body = parameters.EncodedLength;
        return 8 + VarInt.SizeOf((ulong)body) + body;
    }

    /// <summary>Writes QX_TRANSPORT_PARAMETERS (8-byte type, length, parameters).</summary>
    public static int WriteTransportParameters(Span<byte> destination, QMuxTransportParameters parameters)
    {
        int n = VarInt.Write(destination, TransportParametersType);
        int body = parameters.EncodedLength;
        n += VarInt.Write(destination[n..], (ulong)body);
        return n + parameters.Write(destination[n..]);
    }
}
