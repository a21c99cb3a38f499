namespace MoqCluster.Protocol.Transport;

/// <summary>
/// A run of writes on one thread whose sends leave together when it ends. A session's writer normally sends a write
/// at once, on the writing thread; inside a burst, a writer that would wake is held and runs once, at the end, so
/// sixty frames written in a loop cost each connection one batch instead of sixty small sends.
/// </summary>
/// <remarks>
/// <para>
/// Every receive loop of a QMux connection runs the records that have already arrived as one burst: a relay whose
/// publisher sent many frames in one read sends each subscriber one batch, and when the relay falls behind (input
/// piles up while it fans out), its sends batch by themselves. A lone frame still leaves at once: the loop ends the
/// burst before it waits for more input.
/// </para>
/// <para>
/// State is per thread. A burst never spans an asynchronous wait: <see cref="Run(Action)"/> takes synchronous code
/// only, and the receive loop ends its burst before awaiting input that has not arrived. A burst opened while another
/// is open on the same thread joins the outer one.
/// </para>
/// </remarks>
public static class SendBurst
{
    [ThreadStatic] private static List<WriterSignal>? t_held;
    [ThreadStatic] private static bool t_open;

    /// <summary>Runs <paramref name="writes"/> (synchronous writes to groups, tracks or streams) as one burst.</summary>
    public static void Run(Action writes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        Run(writes, static w => w());
    }

    /// <summary>Runs <paramref name="writes"/> with <paramref name="state"/> as one burst, without a closure.</summary>
    public static void Run<TState>(TState state, Action<TState> writes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        Run((state, writes), static s =>
        {
            s.writes(s.state);
            return true;
        });
    }

    /// <summary>Runs <paramref name="writes"/> with <paramref name="state"/> as one burst and returns its result.</summary>
    public static TResult Run<TState, TResult>(TState state, Func<TState, TResult> writes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        bool owner = Open();
        try
        {
            return writes(state);
        }
        finally
        {
            if (owner)
                Close();
        }
    }

    /// <summary>Opens a burst on this thread; false when one is already open (the caller then owns nothing).</summary>
    internal static bool Open()
    {
        if (t_open)
            return false;
        t_open = true;
        return true;
    }

    /// <summary>Holds <paramref name="signal"/> until the burst ends; false when no burst is open on this thread.</summary>
    internal static bool TryHold(WriterSignal signal)
    {
        if (!t_open)
            return false;
        if (signal.TryMarkHeld())
            (t_held ??= []).Add(signal);
        return true;
    }

    /// <summary>Runs the held writers now, inline; the burst stays open. Only the burst's owner calls this.</summary>
    internal static void Flush()
    {
        var held = t_held;
        if (held is null || held.Count == 0)
            return;
        // Closed and detached while the writers run: whatever they wake runs inline, and a receive loop they resume
        // on this thread (an in-memory peer) opens a burst of its own with its own list, not this one.
        t_open = false;
        t_held = null;
        try
        {
            for (int i = 0; i < held.Count; i++)
                held[i].ReleaseHeld();
        }
        finally
        {
            held.Clear();
            t_held ??= held;
            t_open = true;
        }
    }

    /// <summary>Runs the held writers and closes the burst. Only the burst's owner calls this.</summary>
    internal static void Close()
    {
        Flush();
        t_open = false;
    }
}
