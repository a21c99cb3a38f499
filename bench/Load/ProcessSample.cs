using System.Diagnostics;
using System.Globalization;

namespace MoqCluster.Bench.Load;

/// <summary>
/// CPU time and resident memory of a process read from <c>/proc/&lt;pid&gt;/stat</c>: utime + stime in clock
/// ticks (converted with <c>getconf CLK_TCK</c>) and the rss field in pages.
/// </summary>
internal readonly record struct ProcessSample(long CpuTicks, long RssBytes)
{
    private static readonly Lazy<long> TicksPerSecond = new(ReadClockTicks);

    /// <summary>The kernel's clock ticks per second (<c>getconf CLK_TCK</c>).</summary>
    public static long ClockTicks => TicksPerSecond.Value;

    /// <summary>CPU seconds (user + system).</summary>
    public double CpuSeconds => (double)CpuTicks / ClockTicks;

    /// <summary>
    /// Samples the server processes, summed (a cluster's edges count together); null when there are none or one is
    /// unreadable, which is recorded as an error.
    /// </summary>
    public static ProcessSample? TryRead(IReadOnlyList<int> pids, RunErrors errors)
    {
        if (pids.Count == 0)
            return null;
        long ticks = 0, rss = 0;
        foreach (var id in pids)
        {
            try
            {
                var sample = Read(id);
                ticks += sample.CpuTicks;
                rss += sample.RssBytes;
            }
            catch (IOException ex)
            {
                errors.Add($"server process {id} unreadable", ex);
                return null;
            }
        }
        return new ProcessSample(ticks, rss);
    }

    /// <summary>Reads the current values of process <paramref name="pid"/>.</summary>
    public static ProcessSample Read(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may contain spaces.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime = field 14, stime = field 15, rss = field 24.
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        var rssPages = long.Parse(fields[21], CultureInfo.InvariantCulture);
        return new ProcessSample(utime + stime, rssPages * Environment.SystemPageSize);
    }

    private static long ReadClockTicks()
    {
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })!;
            var text = getconf.StandardOutput.ReadToEnd().Trim();
            getconf.WaitForExit();
            return long.Parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or FormatException)
        {
            return 100; // Linux's USER_HZ on every common build
        }
    }
}
