using System.Text;

namespace MoqCluster.TestSupport;

/// <summary>The outcome of a child process that ran to completion (or was killed at its deadline).</summary>
/// <param name="ExitCode">The exit code; -1 when the process was killed after <paramref name="TimedOut"/>.</param>
/// <param name="TimedOut">True when the deadline passed and the process tree was killed.</param>
/// <param name="StdoutLines">Every line the process wrote to stdout, in order.</param>
/// <param name="Stderr">Everything the process wrote to stderr.</param>
public sealed record ProcessResult(int ExitCode, bool TimedOut, IReadOnlyList<string> StdoutLines, string Stderr)
{
    /// <summary>True when the process exited on its own with code 0.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>A multi-line description for assertion messages (exit status, stdout tail, stderr tail).</summary>
    /// <param name="maxLines">How many trailing lines of stdout and of stderr to include.</param>
    public string Describe(int maxLines = 40)
    {
        var sb = new StringBuilder();
        sb.Append(TimedOut ? "timed out (killed)" : $"exit code {ExitCode}").AppendLine();
        sb.AppendLine("--- stdout (tail) ---");
        foreach (var line in StdoutLines.TakeLast(maxLines))
        {
            sb.AppendLine(line);
        }

        sb.AppendLine("--- stderr (tail) ---");
        foreach (var line in Stderr.Split('\n').TakeLast(maxLines))
        {
            sb.AppendLine(line);
        }

        return sb.ToString();
    }
}
