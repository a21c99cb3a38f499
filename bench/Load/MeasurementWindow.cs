namespace MoqCluster.Bench.Load;

/// <summary>The interval in which receivers count: closed during connect and warm-up, open while measuring.</summary>
internal sealed class MeasurementWindow
{
    private volatile bool _open;

    /// <summary>True while frames count.</summary>
    public bool IsOpen => _open;

    /// <summary>Starts counting.</summary>
    public void Open() => _open = true;

    /// <summary>Stops counting.</summary>
    public void Close() => _open = false;
}
