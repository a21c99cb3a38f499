using MoqCluster.Protocol.Coding;
using static MoqCluster.Protocol.Tests.Messages.Wire;

namespace MoqCluster.Protocol.Tests.Coding;

/// <summary>Spec §3 and §5.2 examples for the coding primitives.</summary>
public class CodingPrimitiveTests
{
    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(63UL, "3f")]
    [InlineData(64UL, "40 40")]
    [InlineData(5000UL, "53 88")]
    [InlineData(16383UL, "7f ff")]
    [InlineData(16384UL, "80 00 40 00")]
    [InlineData(0xff0dad02UL, "c0 00 00 00 ff 0d ad 02")]
    [InlineData(VarInt.MaxValue, "ff ff ff ff ff ff ff ff")]
    public void VarInt_SpecExamples(ulong value, string hex)
    {
        Span<byte> buffer = stackalloc byte[8];
        var n = VarInt.Write(buffer, value);
        Assert.Equal(hex, Hex(buffer[..n]));
        Assert.Equal(n, VarInt.SizeOf(value));
        Assert.True(VarInt.TryRead(Bytes(hex), out var read, out var consumed));
        Assert.Equal((value, n), (read, consumed));
    }

    [Theory]
    [InlineData("40 00", 0UL)]
    [InlineData("80 00 00 3f", 63UL)]
    [InlineData("c0 00 00 00 00 00 00 05", 5UL)]
    [InlineData("80 00 40 00", 16384UL)]
    public void VarInt_DecodesNonMinimalEncodings(string hex, ulong expected)
    {
        var reader = new MessageReader(Bytes(hex));
        Assert.Equal(expected, reader.ReadVarInt());
        reader.EnsureEnd();
    }

    [Theory]
    [InlineData("")]
    [InlineData("40")]
    [InlineData("80 00 00")]
    [InlineData("c0 00 00 00 00 00 00")]
    public void VarInt_Truncated_IsDecodeError(string hex)
    {
        Assert.False(VarInt.TryRead(Bytes(hex), out _, out _));
        var error = Assert.Throws<DecodeException>(() => new MessageReader(Bytes(hex)).ReadVarInt());
        Assert.Equal(MoqErrorCode.Decode, error.Code);
    }

    [Fact]
    public void VarInt_AboveMaximum_IsRefused()
        => Assert.Throws<ArgumentOutOfRangeException>(() => VarInt.SizeOf(VarInt.MaxValue + 1));

    [Theory]
    [InlineData(0L, 0UL)]
    [InlineData(-1L, 1UL)]
    [InlineData(1L, 2UL)]
    [InlineData(-2L, 3UL)]
    [InlineData(33L, 66UL)]
    [InlineData(-33L, 65UL)]
    [InlineData(1000L, 2000UL)]
    public void ZigZag_SpecExamples(long signed, ulong encoded)
    {
        Assert.Equal(encoded, VarInt.ZigZagEncode(signed));
        Assert.Equal(signed, VarInt.ZigZagDecode(encoded));
    }

    [Theory]
    [InlineData("/demo//clock/", "demo/clock")]
    [InlineData("demo/clock", "demo/clock")]
    [InlineData("///", "")]
    [InlineData("", "")]
    [InlineData("a//b///c", "a/b/c")]
    public void Path_Normalisation(string raw, string normal) => Assert.Equal(normal, MoqPath.Parse(raw).Value);

    [Fact]
    public void Path_PrefixIsSegmentAware()
    {
        MoqPath demo = "demo";
        Assert.True(((MoqPath)"demo").HasPrefix(demo));
        Assert.True(((MoqPath)"demo/clock").HasPrefix(demo));
        Assert.False(((MoqPath)"democlock").HasPrefix(demo));
        Assert.True(((MoqPath)"anything").HasPrefix(MoqPath.Empty));
        Assert.Equal("clock", ((MoqPath)"demo/clock").StripPrefix(demo)!.Value.Value);
        Assert.Equal(MoqPath.Empty, ((MoqPath)"demo").StripPrefix(demo));
        Assert.Null(((MoqPath)"democlock").StripPrefix(demo));
    }

    [Fact]
    public void Path_Join()
    {
        Assert.Equal("b", MoqPath.Empty.Join("b").Value);
        Assert.Equal("a", ((MoqPath)"a").Join(MoqPath.Empty).Value);
        Assert.Equal("a/b", ((MoqPath)"a").Join("b").Value);
        Assert.Equal("anon/bbb", ((MoqPath)"anon").Join("/bbb/").Value);
    }

    [Fact]
    public void Path_SegmentLimit_IsBoundsExceeded()
    {
        var ok = string.Join('/', Enumerable.Repeat("s", 32));
        using var writer = new MessageWriter();
        writer.WriteString(ok);
        Assert.Equal(32, new MessageReader(writer.WrittenSpan).ReadPath().SegmentCount);

        writer.Reset();
        writer.WriteString(ok + "/s");
        var bytes = writer.ToArray();
        var error = Assert.Throws<DecodeException>(() => new MessageReader(bytes).ReadPath());
        Assert.Equal(MoqErrorCode.BoundsExceeded, error.Code);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(63, 1)]
    [InlineData(64, 2)]
    [InlineData(300, 2)]
    [InlineData(16383, 2)]
    [InlineData(16384, 4)]
    public void Writer_EndLength_ShiftsLongBodies(int bodyLength, int prefixLength)
    {
        using var writer = new MessageWriter(16);
        writer.WriteU8(0xAA); // something before the section must stay put
        var mark = writer.BeginLength();
        for (var i = 0; i < bodyLength; i++)
            writer.WriteU8((byte)i);
        writer.EndLength(mark);
        writer.WriteU8(0xBB);

        var written = writer.WrittenSpan;
        Assert.Equal(1 + prefixLength + bodyLength + 1, written.Length);
        Assert.Equal(0xAA, written[0]);
        Assert.True(VarInt.TryRead(written[1..], out var length, out var n));
        Assert.Equal(((ulong)bodyLength, prefixLength), (length, n));
        for (var i = 0; i < bodyLength; i++)
            Assert.Equal((byte)i, written[1 + prefixLength + i]);
        Assert.Equal(0xBB, written[^1]);
    }

    [Fact]
    public void Writer_U16Length_AndOverflow()
    {
        using var writer = new MessageWriter();
        var mark = writer.BeginU16Length();
        writer.WriteBytes(new byte[300]);
        writer.EndU16Length(mark);
        Assert.Equal("01 2c", Hex(writer.WrittenSpan[..2]));

        writer.Reset();
        mark = writer.BeginU16Length();
        writer.WriteBytes(new byte[70_000]);
        var error = Assert.Throws<ProtocolException>(() => writer.EndU16Length(mark));
        Assert.Equal(MoqErrorCode.Encode, error.Code);
    }

    [Fact]
    public void Writer_U53_RefusesValuesJavaScriptCannotRead()
    {
        using var writer = new MessageWriter();
        writer.WriteU53(VarInt.MaxSafeInteger);
        Assert.Equal("c0 1f ff ff ff ff ff ff", Hex(writer.WrittenSpan));
        var error = Assert.Throws<ProtocolException>(() => writer.WriteU53(VarInt.MaxSafeInteger + 1));
        Assert.Equal(MoqErrorCode.Encode, error.Code);
        Assert.Throws<ProtocolException>(() => writer.WriteOptionalGroupU53(VarInt.MaxSafeInteger));
    }

    [Fact]
    public void Reader_BooleanOnlyZeroOrOne()
    {
        Assert.False(new MessageReader([0]).ReadBool());
        Assert.True(new MessageReader([1]).ReadBool());
        var error = Assert.Throws<DecodeException>(() => new MessageReader([2]).ReadBool());
        Assert.Equal(MoqErrorCode.Decode, error.Code);
    }

    [Fact]
    public void Reader_OptionalGroup()
    {
        var reader = new MessageReader(Bytes("00 01 08"));
        Assert.Null(reader.ReadOptionalGroup());
        Assert.Equal(0UL, reader.ReadOptionalGroup());
        Assert.Equal(7UL, reader.ReadOptionalGroup());
    }
}
