using MoqCluster.Protocol.Transport;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>Spec §7.3 byte vectors W1–W3, encoded and decoded.</summary>
public class QMuxFrameCodecTests
{
    private static readonly byte[] Payload = Hex.Bytes("00 02 00 05 05 68 65 6c 6c 6f");

    private static byte[] Encode(Func<byte[], int> write)
    {
        var buffer = new byte[512];
        int n = write(buffer);
        return buffer[..n];
    }

    private static QMuxFrame DecodeOne(string hex, QMuxWireFormat format)
    {
        var bytes = Hex.Bytes(hex);
        int used = QMuxFrameCodec.Decode(bytes, 0, format, out var frame);
        Assert.Equal(bytes.Length, used);
        return frame;
    }

    // ------------------------------------------------------------------ W1 legacy

    [Fact]
    public void W1_Stream()
    {
        const string hex = "08 03 00 02 00 05 05 68 65 6c 6c 6f";
        Assert.Equal(Hex.Bytes(hex), Encode(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Legacy, 3, 0, Payload, fin: false)));
        var f = DecodeOne(hex, QMuxWireFormat.Legacy);
        Assert.Equal(QMuxFrameKind.Stream, f.Kind);
        Assert.Equal(3, f.StreamId);
        Assert.False(f.Fin);
        Assert.Equal(Payload, f.Data.ToArray());
    }

    [Fact]
    public void W1_StreamFinNoData()
    {
        Assert.Equal(Hex.Bytes("09 03"), Encode(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Legacy, 3, 10, [], fin: true)));
        var f = DecodeOne("09 03", QMuxWireFormat.Legacy);
        Assert.Equal(QMuxFrameKind.Stream, f.Kind);
        Assert.True(f.Fin);
        Assert.True(f.Data.IsEmpty);
    }

    [Fact]
    public void W1_ResetStream()
    {
        Assert.Equal(Hex.Bytes("04 03 0d"), Encode(b => QMuxFrameCodec.WriteResetStream(b, QMuxWireFormat.Legacy, 3, 13, 10)));
        var f = DecodeOne("04 03 0d", QMuxWireFormat.Legacy);
        Assert.Equal((QMuxFrameKind.ResetStream, 3L, 13UL, -1L), (f.Kind, f.StreamId, f.ErrorCode, f.FinalSize));
    }

    [Fact]
    public void W1_StopSending()
    {
        Assert.Equal(Hex.Bytes("05 00 00"), Encode(b => QMuxFrameCodec.WriteStopSending(b, 0, 0)));
        var f = DecodeOne("05 00 00", QMuxWireFormat.Legacy);
        Assert.Equal((QMuxFrameKind.StopSending, 0L, 0UL), (f.Kind, f.StreamId, f.ErrorCode));
    }

    [Fact]
    public void W1_ApplicationClose()
    {
        var bye = "bye"u8.ToArray();
        Assert.Equal(Hex.Bytes("1d 00 62 79 65"), Encode(b => QMuxFrameCodec.WriteApplicationClose(b, QMuxWireFormat.Legacy, 0, bye)));
        Assert.Equal(Hex.Bytes("1d 00 62 79 65"), Encode(b => QMuxFrameCodec.WriteClose(b, QMuxWireFormat.Legacy, 0, 0, bye)));
        var f = DecodeOne("1d 00 62 79 65", QMuxWireFormat.Legacy);
        Assert.Equal((QMuxFrameKind.ApplicationClose, 0UL, "bye"), (f.Kind, f.ErrorCode, f.Reason));
        var c = DecodeOne("1c 07 62 79 65", QMuxWireFormat.Legacy);
        Assert.Equal((QMuxFrameKind.ConnectionClose, 7UL, "bye"), (c.Kind, c.ErrorCode, c.Reason));
    }

    // ------------------------------------------------------------------ W2 qmux-00

    [Fact]
    public void W2_StreamOffLen()
    {
        const string hex = "0e 03 00 0a 00 02 00 05 05 68 65 6c 6c 6f";
        Assert.Equal(Hex.Bytes(hex), Encode(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux00, 3, 0, Payload, fin: false)));
        var f = DecodeOne(hex, QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.Stream, 3L, 0L, false), (f.Kind, f.StreamId, f.Offset, f.Fin));
        Assert.Equal(Payload, f.Data.ToArray());
    }

    [Fact]
    public void W2_StreamLenOnly_AsQmux006Emits()
    {
        var f = DecodeOne("0a 03 0a 00 02 00 05 05 68 65 6c 6c 6f", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.Stream, 3L, -1L, false), (f.Kind, f.StreamId, f.Offset, f.Fin));
        Assert.Equal(Payload, f.Data.ToArray());
    }

    [Theory]
    [InlineData("08 03 61 62", false, -1L)]
    [InlineData("09 03 61 62", true, -1L)]
    [InlineData("0c 03 05 61 62", false, 5L)]
    [InlineData("0d 03 05 61 62", true, 5L)]
    [InlineData("0b 03 02 61 62", true, -1L)]
    public void W2_AllStreamVariantsDecode(string hex, bool fin, long offset)
    {
        var f = DecodeOne(hex, QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.Stream, 3L, fin, offset), (f.Kind, f.StreamId, f.Fin, f.Offset));
        Assert.Equal("ab"u8.ToArray(), f.Data.ToArray());
    }

    [Fact]
    public void W2_StreamFinAtOffset()
    {
        Assert.Equal(Hex.Bytes("0f 03 0a 00"), Encode(b => QMuxFrameCodec.WriteStream(b, QMuxWireFormat.Qmux00, 3, 10, [], fin: true)));
        var f = DecodeOne("0f 03 0a 00", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.Stream, 3L, 10L, true, 0), (f.Kind, f.StreamId, f.Offset, f.Fin, f.Data.Length));
    }

    [Fact]
    public void W2_ResetStream()
    {
        Assert.Equal(Hex.Bytes("04 03 0d 0a"), Encode(b => QMuxFrameCodec.WriteResetStream(b, QMuxWireFormat.Qmux00, 3, 13, 10)));
        var f = DecodeOne("04 03 0d 0a", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.ResetStream, 3L, 13UL, 10L), (f.Kind, f.StreamId, f.ErrorCode, f.FinalSize));
    }

    [Fact]
    public void W2_StopSending()
    {
        var f = DecodeOne("05 00 00", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.StopSending, 0L, 0UL), (f.Kind, f.StreamId, f.ErrorCode));
    }

    [Fact]
    public void W2_MaxStreamsUni()
    {
        Assert.Equal(Hex.Bytes("13 40 65"), Encode(b => QMuxFrameCodec.WriteMaxStreams(b, bidi: false, 101)));
        var f = DecodeOne("13 40 65", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.MaxStreamsUni, 101L), (f.Kind, f.Maximum));
        Assert.Equal(QMuxFrameKind.MaxStreamsBidi, DecodeOne("12 40 65", QMuxWireFormat.Qmux00).Kind);
    }

    [Fact]
    public void W2_MaxData()
    {
        Assert.Equal(Hex.Bytes("10 80 20 00 00"), Encode(b => QMuxFrameCodec.WriteMaxData(b, 2_097_152)));
        var f = DecodeOne("10 80 20 00 00", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.MaxData, 2_097_152L), (f.Kind, f.Maximum));
    }

    [Fact]
    public void W2_MaxStreamData()
    {
        Assert.Equal(Hex.Bytes("11 00 80 08 00 00"), Encode(b => QMuxFrameCodec.WriteMaxStreamData(b, 0, 524_288)));
        var f = DecodeOne("11 00 80 08 00 00", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.MaxStreamData, 0L, 524_288L), (f.Kind, f.StreamId, f.Maximum));
    }

    [Fact]
    public void W2_ConnectionClose()
    {
        Assert.Equal(Hex.Bytes("1c 00 00 03 62 79 65"), Encode(b => QMuxFrameCodec.WriteClose(b, QMuxWireFormat.Qmux00, 0, 0, "bye"u8)));
        var f = DecodeOne("1c 00 00 03 62 79 65", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.ConnectionClose, 0UL, 0UL, "bye"), (f.Kind, f.ErrorCode, f.FrameType, f.Reason));
    }

    [Fact]
    public void W2_ApplicationClose_RfcForm()
    {
        Assert.Equal(Hex.Bytes("1d 00 03 62 79 65"), Encode(b => QMuxFrameCodec.WriteApplicationClose(b, QMuxWireFormat.Qmux00, 0, "bye"u8)));
        var f = DecodeOne("1d 00 03 62 79 65", QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.ApplicationClose, 0UL, "bye"), (f.Kind, f.ErrorCode, f.Reason));
    }

    [Theory]
    [InlineData("1d 05 00 03 62 79 65", 5UL, "bye")] // @moq/qmux 0.0.6: extra frame-type field
    [InlineData("1d 00 00", 0UL, "")]                // @moq/qmux 0.3.3 close with empty reason (capture 03)
    [InlineData("1d 02", 2UL, "")]                   // truncated after the code: still a close
    public void W2_ApplicationClose_LenientForms(string hex, ulong code, string reason)
    {
        var f = DecodeOne(hex, QMuxWireFormat.Qmux00);
        Assert.Equal((QMuxFrameKind.ApplicationClose, code, reason), (f.Kind, f.ErrorCode, f.Reason));
    }

    private const string Lite022Parameters =
        "ff 51 53 30 0d 0a 0d 0a 20 04 04 80 10 00 00 05 04 80 04 00 00 06 04 80 04 00 00 07 04 80 04 00 00 08 02 40 64 09 02 40 64";

    private const string Net034Parameters =
        "ff 51 53 30 0d 0a 0d 0a 31 01 04 80 00 75 30 04 04 80 10 00 00 05 04 80 04 00 00 06 04 80 04 00 00 07 04 80 04 00 00 08 02 40 64 09 02 40 64 c5 71 c5 94 29 cd 08 45 02 7f fe";

    private const string RelayParameters =
        "ff 51 53 30 0d 0a 0d 0a 2b 04 04 81 00 00 00 05 04 80 10 00 00 06 04 80 10 00 00 07 04 80 10 00 00 08 02 43 e8 09 02 43 e8 c5 71 c5 94 29 cd 08 45 02 7f fe";

    [Fact]
    public void W2_TransportParameters_Lite022()
    {
        var f = DecodeOne(Lite022Parameters, QMuxWireFormat.Qmux00);
        Assert.Equal(QMuxFrameKind.TransportParameters, f.Kind);
        var p = f.Parameters!;
        Assert.Equal((1_048_576L, 262_144L, 262_144L, 262_144L, 100L, 100L), (p.InitialMaxData, p.InitialMaxStreamDataBidiLocal, p.InitialMaxStreamDataBidiRemote, p.InitialMaxStreamDataUni, p.InitialMaxStreamsBidi, p.InitialMaxStreamsUni));
        Assert.Null(p.MaxRecordSize);
        Assert.Equal(Hex.Bytes(Lite022Parameters), Encode(b => QMuxFrameCodec.WriteTransportParameters(b, p)));
    }

    [Fact]
    public void W2_TransportParameters_Net034()
    {
        var p = DecodeOne(Net034Parameters, QMuxWireFormat.Qmux00).Parameters!;
        Assert.Equal(30_000, p.MaxIdleTimeout);
        Assert.Equal(16_382, p.MaxRecordSize);
        Assert.Equal(100, p.InitialMaxStreamsUni);
        Assert.Equal(Hex.Bytes(Net034Parameters), Encode(b => QMuxFrameCodec.WriteTransportParameters(b, p)));
    }

    [Fact]
    public void W2_TransportParameters_RelayExample()
    {
        var qmux00 = QMuxTransportParameters.FromOptions(new QMuxOptions { AdvertiseMaxRecordSize = true }, QMuxWireFormat.Qmux00);
        Assert.Equal(Hex.Bytes(RelayParameters), Encode(b => QMuxFrameCodec.WriteTransportParameters(b, qmux00)));
        Assert.Equal(Hex.Bytes(RelayParameters).Length, QMuxFrameCodec.TransportParametersSize(qmux00));
        var qmux01 = QMuxTransportParameters.FromOptions(QMuxOptions.Default, QMuxWireFormat.Qmux01);
        Assert.Equal(Hex.Bytes(RelayParameters), Encode(b => QMuxFrameCodec.WriteTransportParameters(b, qmux01)));
        var p = DecodeOne(RelayParameters, QMuxWireFormat.Qmux00).Parameters!;
        Assert.Equal(qmux00, p);
    }

    [Fact]
    public void TransportParameters_UnknownIdsSkipped_MalformedRejected()
    {
        // unknown id 0x2a (2 bytes) then initial_max_data 5
        var p = DecodeOne("ff 51 53 30 0d 0a 0d 0a 07 2a 02 aa bb 04 01 05", QMuxWireFormat.Qmux00).Parameters!;
        Assert.Equal(5, p.InitialMaxData);
        var bad = Assert.Throws<QMuxFrameException>(() => DecodeOne("ff 51 53 30 0d 0a 0d 0a 04 04 02 05 00", QMuxWireFormat.Qmux00));
        Assert.Equal(QMuxTransportError.TransportParameterError, bad.Code);
    }

    // ------------------------------------------------------------------ W3 qmux-01

    [Fact]
    public void W3_Ping()
    {
        Assert.Equal(Hex.Bytes("f4 8c 67 52 9e f8 c7 bd 00"), Encode(b => QMuxFrameCodec.WritePing(b, response: false, 0)));
        Assert.Equal(Hex.Bytes("f4 8c 67 52 9e f8 c7 be 00"), Encode(b => QMuxFrameCodec.WritePing(b, response: true, 0)));
        Assert.Equal((QMuxFrameKind.PingRequest, 0UL), (DecodeOne("f4 8c 67 52 9e f8 c7 bd 00", QMuxWireFormat.Qmux01) is var r ? (r.Kind, r.Sequence) : default));
        Assert.Equal(QMuxFrameKind.PingResponse, DecodeOne("f4 8c 67 52 9e f8 c7 be 00", QMuxWireFormat.Qmux01).Kind);
    }

    [Fact]
    public void W3_RecordWithTwoFrames()
    {
        const string hex = "13 43 e9 0f 03 00 04 00 02 00 05";
        var data = Hex.Bytes("00 02 00 05");
        var encoded = Encode(b =>
        {
            int n = QMuxFrameCodec.WriteMaxStreams(b, bidi: false, 1001);
            return n + QMuxFrameCodec.WriteStream(b.AsSpan(n), QMuxWireFormat.Qmux01, 3, 0, data, fin: true);
        });
        Assert.Equal(Hex.Bytes(hex), encoded);

        var record = Hex.Bytes(hex);
        int used = QMuxFrameCodec.Decode(record, 0, QMuxWireFormat.Qmux01, out var first);
        Assert.Equal((QMuxFrameKind.MaxStreamsUni, 1001L), (first.Kind, first.Maximum));
        used += QMuxFrameCodec.Decode(record, used, QMuxWireFormat.Qmux01, out var second);
        Assert.Equal(record.Length, used);
        Assert.Equal((QMuxFrameKind.Stream, 3L, 0L, true), (second.Kind, second.StreamId, second.Offset, second.Fin));
        Assert.Equal(data, second.Data.ToArray());
    }

    // ------------------------------------------------------------------ malformed input

    [Theory]
    [InlineData("40", QMuxWireFormat.Qmux00)]           // truncated varint type
    [InlineData("21", QMuxWireFormat.Qmux00)]           // unknown type
    [InlineData("0e 03 00 05 61", QMuxWireFormat.Qmux01)] // length beyond the record
    [InlineData("04 03", QMuxWireFormat.Qmux00)]        // truncated reset
    [InlineData("ff 00", QMuxWireFormat.Legacy)]        // unknown legacy type
    [InlineData("08", QMuxWireFormat.Legacy)]           // legacy stream without id
    public void Malformed_IsFrameEncodingError(string hex, QMuxWireFormat format)
    {
        var error = Assert.Throws<QMuxFrameException>(() => QMuxFrameCodec.Decode(Hex.Bytes(hex), 0, format, out _));
        Assert.Equal(QMuxTransportError.FrameEncodingError, error.Code);
    }
}
