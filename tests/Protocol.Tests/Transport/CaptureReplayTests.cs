using System.Text.RegularExpressions;
using MoqCluster.Protocol.Transport;
using static MoqCluster.Protocol.Tests.Transport.TransportTestKit;

namespace MoqCluster.Protocol.Tests.Transport;

/// <summary>
/// Feeds what the real npm clients sent (wire transcripts recorded from them, kept in Data/captures) into a
/// server engine: every record must be accepted and every client stream must deliver exactly the captured bytes.
/// </summary>
public partial class CaptureReplayTests
{
    private static readonly string CaptureDirectory = FindCaptures();

    private static string FindCaptures()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Data", "captures");
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"capture transcripts missing: {directory}");
        return directory;
    }

    [GeneratedRegex(@"^\[#1\.\d+ (C->S|S->C) ")]
    private static partial Regex RecordHeader();

    [GeneratedRegex(@"^    [0-9a-f]{4}  ((?:[0-9a-f]{2} ?)+)")]
    private static partial Regex HexLine();

    /// <summary>The records the client sent on connection #1.</summary>
    private static List<byte[]> ClientRecords(string file)
    {
        var records = new List<byte[]>();
        List<byte>? current = null;
        foreach (var line in File.ReadLines(file))
        {
            var header = RecordHeader().Match(line);
            if (header.Success)
            {
                current = header.Groups[1].Value == "C->S" ? [] : null;
                if (current is not null)
                    records.Add([]);
                continue;
            }
            if (line.StartsWith("=== connection #2", StringComparison.Ordinal))
                break;
            var hex = HexLine().Match(line);
            if (current is not null && hex.Success)
                records[^1] = [.. records[^1], .. Hex.Bytes(hex.Groups[1].Value.Trim())];
            else if (!line.StartsWith("    ", StringComparison.Ordinal))
                current = null;
        }
        return records;
    }

    [Theory]
    [InlineData("10_lite_pub_script_qmux-00_lite-02.txt", QMuxWireFormat.Qmux00)]
    [InlineData("11_lite_sub_script_qmux-00_lite-02.txt", QMuxWireFormat.Qmux00)]
    [InlineData("20_net_pub_script_qmux-01_lite-05.txt", QMuxWireFormat.Qmux01)]
    [InlineData("21_net_sub_script_qmux-01_lite-05.txt", QMuxWireFormat.Qmux01)]
    [InlineData("22_net_pub_script_qmux-00_lite-04.txt", QMuxWireFormat.Qmux00)]
    [InlineData("23_net_sub_script_qmux-00_lite-03.txt", QMuxWireFormat.Qmux00)]
    [InlineData("12_lite_pub_script_webtransport_lite-02.txt", QMuxWireFormat.Legacy)]
    [InlineData("13_lite_sub_script_webtransport_lite-02.txt", QMuxWireFormat.Legacy)]
    public async Task ClientRecords_AreAccepted(string file, QMuxWireFormat format)
    {
        var records = ClientRecords(Path.Combine(CaptureDirectory, file));
        Assert.NotEmpty(records);
        var frames = Frames(records, format);
        static bool IsClose(QMuxFrame f) => f.Kind is QMuxFrameKind.ApplicationClose or QMuxFrameKind.ConnectionClose;
        // Close records are replayed last, after the stream data has been checked.
        var closeRecords = records.Where(r => Frames([r], format).Any(IsClose)).ToList();
        records = records.Where(r => !closeRecords.Contains(r)).ToList();

        // Expected bytes per client-initiated stream, and which server streams the client refers to.
        var expected = new Dictionary<long, List<byte>>();
        long serverBidi = 0, serverUni = 0;
        foreach (var f in frames.Where(f => f.Kind is QMuxFrameKind.Stream or QMuxFrameKind.StopSending or QMuxFrameKind.ResetStream))
        {
            if ((f.StreamId & 1) == 1)
            {
                if ((f.StreamId & 2) == 0) serverBidi = Math.Max(serverBidi, (f.StreamId >> 2) + 1);
                else serverUni = Math.Max(serverUni, (f.StreamId >> 2) + 1);
            }
            else if (f.Kind == QMuxFrameKind.Stream)
            {
                (expected.TryGetValue(f.StreamId, out var list) ? list : expected[f.StreamId] = []).AddRange(f.Data.ToArray());
            }
        }

        await using var peer = await RawPeer.CreateAsync(format, sendParameters: false);
        int next = 0;
        if (format != QMuxWireFormat.Legacy)
            await peer.SendAsync(records[next++]); // the client's QX_TRANSPORT_PARAMETERS
        // Open the server streams the capture server had opened, so the client's frames refer to real streams.
        var opened = new List<object>();
        for (long i = 0; i < serverBidi; i++)
            opened.Add(await peer.Engine.OpenBidiAsync().AsTask().WaitAsync(Guard));
        for (long i = 0; i < serverUni; i++)
            opened.Add(await peer.Engine.OpenUniAsync().AsTask().WaitAsync(Guard));

        for (; next < records.Count; next++)
            await peer.SendAsync(records[next]);

        Assert.NotEmpty(expected);
        var bidis = new Dictionary<long, IBidiStream>();
        var unis = new Dictionary<long, IRecvStream>();
        foreach (var (id, bytes) in expected.OrderBy(e => e.Key))
        {
            IRecvStream recv;
            if ((id & 2) == 0)
            {
                var bidi = await peer.Engine.AcceptBidiAsync().AsTask().WaitAsync(Guard);
                Assert.Equal(id, bidi!.Id);
                recv = bidi.Recv;
            }
            else
            {
                recv = (await peer.Engine.AcceptUniAsync().AsTask().WaitAsync(Guard))!;
            }
            var buffer = new byte[bytes.Count];
            int got = 0;
            while (got < buffer.Length)
            {
                int n = await recv.ReadAsync(buffer.AsMemory(got)).AsTask().WaitAsync(Guard);
                Assert.NotEqual(0, n);
                got += n;
            }
            Assert.Equal(bytes.ToArray(), buffer);
        }
        Assert.False(peer.Engine.Closed.IsCompleted);

        foreach (var record in closeRecords)
            await peer.SendAsync(record);
        if (closeRecords.Count > 0)
            Assert.True((await peer.Engine.Closed.WaitAsync(Guard)).ByPeer);
    }
}
