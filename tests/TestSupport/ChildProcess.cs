using System.Diagnostics;
using System.Text;

namespace MoqCluster.TestSupport;

/// <summary>
/// A running child process started by <see cref="ProcessRunner"/>, with its stdout captured line by
/// line and its stderr captured as text. Disposing it kills the whole process tree (by PID).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly Action<ChildProcess> _onDisposed;
    private readonly Action<string>? _log;
    private readonly string _label;
    private readonly object _gate = new();
    private readonly List<string> _stdout = [];
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _killedByUs;
    private int _disposed;

    private ChildProcess(Process process, string label, Action<string>? log, Action<ChildProcess> onDisposed)
    {
        _process = process;
        _label = label;
        _log = log;
        _onDisposed = onDisposed;
    }

    /// <summary>The operating-system process id.</summary>
    public int Id { get; private set; }

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>A snapshot of the stdout lines received so far.</summary>
    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>A snapshot of the stderr text received so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    internal static ChildProcess Launch(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory,
        IReadOnlyDictionary<string, string?>? environment,
        Action<string>? log,
        Action<ChildProcess> onDisposed)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in arguments)
        {
            info.ArgumentList.Add(arg);
        }

        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, Path.GetFileName(fileName), log, onDisposed);
        process.OutputDataReceived += (_, e) => child.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnStderr(e.Data);
        process.Exited += (_, _) => child.Signal();
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }

        child.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Wait for a stdout line matching <paramref name="match"/> (lines already received count).
    /// </summary>
    /// <param name="match">Line predicate.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait (the process keeps running).</param>
    /// <returns>The first matching line.</returns>
    /// <exception cref="TimeoutException">No such line within the timeout.</exception>
    /// <exception cref="InvalidOperationException">The process exited without printing such a line.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var next = 0;
        while (true)
        {
            Task changed;
            bool closed;
            lock (_gate)
            {
                for (; next < _stdout.Count; next++)
                {
                    if (match(_stdout[next]))
                    {
                        return _stdout[next];
                    }
                }

                changed = _changed.Task;
                closed = _stdoutClosed.Task.IsCompleted;
            }

            if (closed)
            {
                throw new InvalidOperationException($"{_label} (pid {Id}) ended its output without the expected line\n{Snapshot().Describe()}");
            }

            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{_label} (pid {Id}) printed no expected line within {timeout}\n{Snapshot().Describe()}");
            }
        }
    }

    /// <summary>
    /// Wait for the process to exit and its output to be read; past <paramref name="timeout"/> the
    /// process tree is killed and the result has <see cref="ProcessResult.TimedOut"/> set.
    /// </summary>
    /// <param name="timeout">Hard deadline.</param>
    /// <param name="cancellationToken">Cancels the wait; the process tree is killed.</param>
    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await WaitKilledAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return Snapshot() with { TimedOut = true, ExitCode = -1 };
        }

        await DrainAsync().ConfigureAwait(false);
        return Snapshot();
    }

    /// <summary>Kill the process and all its descendants (no-op once it has exited).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _killedByUs = true;
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited in the meantime.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exited in the meantime, or already being torn down.
        }
    }

    /// <summary>Kill the process tree, wait briefly for it to go, and release the handle.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill();
        await WaitKilledAsync().ConfigureAwait(false);
        Release();
    }

    /// <summary>Kill the process tree and release the handle (synchronous variant of <see cref="DisposeAsync"/>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill();
        _process.WaitForExit(DrainTimeout);
        Release();
    }

    private void Release()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The pipe is already broken because the process is gone.
        }

        _process.Dispose();
        _onDisposed(this);
    }

    private async Task WaitKilledAsync()
    {
        using var cts = new CancellationTokenSource(DrainTimeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Give up waiting; the kill signal has been sent.
        }

        await DrainAsync().ConfigureAwait(false);
    }

    private async Task DrainAsync()
    {
        // Grandchildren that inherited the pipes could keep them open; don't wait forever.
        await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(DrainTimeout)).ConfigureAwait(false);
    }

    private ProcessResult Snapshot()
    {
        lock (_gate)
        {
            var exited = _process.HasExited;
            var code = exited ? _process.ExitCode : -1;
            return new ProcessResult(_killedByUs ? -1 : code, false, [.. _stdout], _stderr.ToString());
        }
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            _stdoutClosed.TrySetResult();
            Signal();
            return;
        }

        lock (_gate)
        {
            _stdout.Add(line);
        }

        Log("out", line);
        Signal();
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            _stderrClosed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            _stderr.Append(line).Append('\n');
        }

        Log("err", line);
    }

    private void Signal()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    private void Log(string stream, string line)
    {
        if (_log is null)
        {
            return;
        }

        try
        {
            _log($"[{_label} {Id} {stream}] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test that owned the sink (e.g. an xunit ITestOutputHelper) has already finished.
        }
    }
}
