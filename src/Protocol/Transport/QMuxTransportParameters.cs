using MoqCluster.Protocol.Coding;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// The payload of QX_TRANSPORT_PARAMETERS (spec §2.3.4). Absent integer parameters are 0 (QUIC
/// default), except max_record_size whose default is 16 382.
/// </summary>
internal sealed record QMuxTransportParameters
{
    public const ulong MaxIdleTimeoutId = 0x01;
    public const ulong InitialMaxDataId = 0x04;
    public const ulong InitialMaxStreamDataBidiLocalId = 0x05;
    public const ulong InitialMaxStreamDataBidiRemoteId = 0x06;
    public const ulong InitialMaxStreamDataUniId = 0x07;
    public const ulong InitialMaxStreamsBidiId = 0x08;
    public const ulong InitialMaxStreamsUniId = 0x09;
    public const ulong ResetStreamAtId = 0x1d;
    public const ulong MaxDatagramFrameSizeId = 0x20;
    public const ulong MaxRecordSizeId = 0x0571c59429cd0845;

    /// <summary>Record-size default when the parameter is absent (qmux-01).</summary>
    public const long DefaultMaxRecordSize = 16382;

    public long MaxIdleTimeout { get; init; }
    public long InitialMaxData { get; init; }
    public long InitialMaxStreamDataBidiLocal { get; init; }
    public long InitialMaxStreamDataBidiRemote { get; init; }
    public long InitialMaxStreamDataUni { get; init; }
    public long InitialMaxStreamsBidi { get; init; }
    public long InitialMaxStreamsUni { get; init; }
    public long MaxDatagramFrameSize { get; init; }

    /// <summary>Null when absent (the peer's default applies).</summary>
    public long? MaxRecordSize { get; init; }

    public bool ResetStreamAt { get; init; }

    /// <summary>What we advertise for <paramref name="format"/> given <paramref name="options"/>.</summary>
    public static QMuxTransportParameters FromOptions(QMuxOptions options, QMuxWireFormat format)
    {
        bool multiRecord = format is QMuxWireFormat.Qmux01 or QMuxWireFormat.Qmux02;
        bool sendRecordSize = options.AdvertiseMaxRecordSize ?? multiRecord;
        return new QMuxTransportParameters
        {
            MaxIdleTimeout = options.MaxIdleTimeoutMs,
            InitialMaxData = options.InitialMaxData,
            InitialMaxStreamDataBidiLocal = options.InitialMaxStreamDataBidiLocal,
            InitialMaxStreamDataBidiRemote = options.InitialMaxStreamDataBidiRemote,
            InitialMaxStreamDataUni = options.InitialMaxStreamDataUni,
            InitialMaxStreamsBidi = options.InitialMaxStreamsBidi,
            InitialMaxStreamsUni = options.InitialMaxStreamsUni,
            MaxRecordSize = sendRecordSize ? options.MaxRecordSize : null,
        };
    }

    /// <summary>Encoded size of the parameter list (without frame type and length).</summary>
    public int EncodedLength
    {
        get
        {
            int n = 0;
            foreach (var (id, value) in IntegerParameters())
                n += VarInt.SizeOf(id) + VarInt.SizeOf((ulong)VarInt.SizeOf(value)) + VarInt.SizeOf(value);
            return n;
        }
    }

    /// <summary>Writes the parameter list; zero values are omitted as the JS encoders do.</summary>
    public int Write(Span<byte> destination)
    {
        int n = 0;
        foreach (var (id, value) in IntegerParameters())
        {
            n += VarInt.Write(destination[n..], id);
            n += VarInt.Write(destination[n..], (ulong)VarInt.SizeOf(value));
            n += VarInt.Write(destination[n..], value);
        }
        return n;
    }

    // Order matches the JS clients and the spec's relay example: 01, 04..09, 20, max_record_size.
    private IEnumerable<(ulong Id, ulong Value)> IntegerParameters()
    {
        if (MaxIdleTimeout > 0) yield return (MaxIdleTimeoutId, (ulong)MaxIdleTimeout);
        if (InitialMaxData > 0) yield return (InitialMaxDataId, (ulong)InitialMaxData);
        if (InitialMaxStreamDataBidiLocal > 0) yield return (InitialMaxStreamDataBidiLocalId, (ulong)InitialMaxStreamDataBidiLocal);
        if (InitialMaxStreamDataBidiRemote > 0) yield return (InitialMaxStreamDataBidiRemoteId, (ulong)InitialMaxStreamDataBidiRemote);
        if (InitialMaxStreamDataUni > 0) yield return (InitialMaxStreamDataUniId, (ulong)InitialMaxStreamDataUni);
        if (InitialMaxStreamsBidi > 0) yield return (InitialMaxStreamsBidiId, (ulong)InitialMaxStreamsBidi);
        if (InitialMaxStreamsUni > 0) yield return (InitialMaxStreamsUniId, (ulong)InitialMaxStreamsUni);
        if (MaxDatagramFrameSize > 0) yield return (MaxDatagramFrameSizeId, (ulong)MaxDatagramFrameSize);
        if (MaxRecordSize is long size) yield return (MaxRecordSizeId, (ulong)size);
    }

    /// <summary>Parses a parameter list; unknown ids are skipped, malformed integers are fatal.</summary>
    public static QMuxTransportParameters Parse(ReadOnlySpan<byte> source)
    {
        var p = new QMuxTransportParameters();
        int pos = 0;
        while (pos < source.Length)
        {
            ulong id = ReadVarInt(source, ref pos);
            ulong length = ReadVarInt(source, ref pos);
            if (length > (ulong)(source.Length - pos))
                throw Error("transport parameter overruns the frame");
            var value = source.Slice(pos, (int)length);
            pos += (int)length;
            switch (id)
            {
                case MaxIdleTimeoutId: p = p with { MaxIdleTimeout = Integer(value) }; break;
                case InitialMaxDataId: p = p with { InitialMaxData = Integer(value) }; break;
                case InitialMaxStreamDataBidiLocalId: p = p with { InitialMaxStreamDataBidiLocal = Integer(value) }; break;
                case InitialMaxStreamDataBidiRemoteId: p = p with { InitialMaxStreamDataBidiRemote = Integer(value) }; break;
                case InitialMaxStreamDataUniId: p = p with { InitialMaxStreamDataUni = Integer(value) }; break;
                case InitialMaxStreamsBidiId: p = p with { InitialMaxStreamsBidi = Integer(value) }; break;
                case InitialMaxStreamsUniId: p = p with { InitialMaxStreamsUni = Integer(value) }; break;
                case MaxDatagramFrameSizeId: p = p with { MaxDatagramFrameSize = Integer(value) }; break;
                case MaxRecordSizeId: p = p with { MaxRecordSize = Integer(value) }; break;
                case ResetStreamAtId: p = p with { ResetStreamAt = true }; break;
                default: break; // unknown or QUIC-only ids: skip, as RFC 9000 §7.4.2 asks
            }
        }
        return p;
    }

    private static long Integer(ReadOnlySpan<byte> value)
    {
        int pos = 0;
        ulong v = ReadVarInt(value, ref pos);
        if (pos != value.Length)
            throw Error("integer transport parameter has trailing bytes");
        return (long)v;
    }

    private static ulong ReadVarInt(ReadOnlySpan<byte> source, ref int pos)
    {
        if (!VarInt.TryRead(source[pos..], out ulong v, out int used))
            throw Error("truncated transport parameter");
        pos += used;
        return v;
    }

    private static QMuxFrameException Error(string message) =>
        new(QMuxTransportError.TransportParameterError, message, QMuxFrameCodec.TransportParametersType);
}
