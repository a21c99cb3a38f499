using MoqCluster.TestSupport;

namespace MoqCluster.Interop.Tests;

/// <summary>The C# payload codec agrees with the JavaScript one used by pub.mjs / sub.mjs.</summary>
public sealed class InteropPayloadTests
{
    private const string Js =
        "import { encodePayload, decodePayload } from './lib/payload.mjs';" +
        "const [mode, arg] = process.argv.slice(1);" +
        "if (mode === 'encode') process.stdout.write(Buffer.from(encodePayload({ group: 3, frame: 2, size: 100, framesPerGroup: 4, groups: 9, sendTime: 12345.5 })).toString('hex') + '\\n');" +
        "else process.stdout.write(JSON.stringify(decodePayload(new Uint8Array(Buffer.from(arg, 'hex')))) + '\\n');";

    [Fact]
    public async Task CSharpDecodesJavaScriptPayload()
    {
        var hex = (await RunJsAsync("encode", "")).Trim();

        Assert.True(InteropPayload.TryDecode(Convert.FromHexString(hex), out var header, out var error), error);
        Assert.Equal(new InteropPayloadHeader(3, 2, 12345.5, 100, 4, 9), header);
    }

    [Fact]
    public async Task JavaScriptDecodesCSharpPayload()
    {
        var bytes = InteropPayload.Encode(group: 7, frame: 1, size: 64, framesPerGroup: 2, groups: 8);

        var json = await RunJsAsync("decode", Convert.ToHexString(bytes));

        Assert.Contains("\"ok\":true", json, StringComparison.Ordinal);
        Assert.Contains("\"group\":7", json, StringComparison.Ordinal);
        Assert.Contains("\"frame\":1", json, StringComparison.Ordinal);
    }

    [Fact]
    public void CorruptedPayloadIsRejected()
    {
        var bytes = InteropPayload.Encode(group: 1, frame: 0, size: 48, framesPerGroup: 1, groups: 1);
        bytes[40] ^= 0xff;

        Assert.False(InteropPayload.TryDecode(bytes, out _, out var error));
        Assert.Equal("filler mismatch at byte 40", error);
    }

    private static async Task<string> RunJsAsync(string mode, string arg)
    {
        await NodeInterop.EnsureInstalledAsync();
        var result = await ProcessRunner.RunAsync(
            NodeInterop.NodeExecutable,
            ["--input-type=module", "-e", Js, mode, arg],
            TimeSpan.FromSeconds(60),
            NodeInterop.ScriptsDirectory);
        Assert.True(result.Succeeded, result.Describe());
        return string.Join('\n', result.StdoutLines);
    }
}
