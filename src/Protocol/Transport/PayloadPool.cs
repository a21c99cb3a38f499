using System.Buffers;
using System.Numerics;

namespace MoqCluster.Protocol.Transport;

/// <summary>
/// Arrays for received frame payloads and stream buffer chunks. A track returns a whole group's payloads at
/// once when it leaves the cache (30 or more arrays of one size per track, from many tracks together), and a
/// fan-out relay has hundreds of receive chunks in flight: far more than the shared pool keeps per size, so it
/// would drop most of them and allocate again. Each size class here keeps up to <see cref="BytesPerSize"/>
/// bytes of free arrays (the AppContext value <c>MoqCluster.PayloadPool.BytesPerSize</c>, e.g. a
/// <c>RuntimeHostConfigurationOption</c>, overrides it); larger arrays are not pooled.
/// </summary>
internal sealed class PayloadPool : ArrayPool<byte>
{
    private const int MinShift = 8;   // 256 B
    private const int MaxShift = 20;  // 1 MiB

    /// <summary>Default free bytes kept per size class (at least 16 arrays).</summary>
    public const int DefaultBytesPerSize = 4 * 1024 * 1024;

    /// <summary>The AppContext value that overrides <see cref="DefaultBytesPerSize"/> (bytes, read once at start).</summary>
    public const string BytesPerSizeSwitch = "MoqCluster.PayloadPool.BytesPerSize";

    /// <summary>Free bytes kept per size class.</summary>
    public static int BytesPerSize { get; } = AppContext.GetData(BytesPerSizeSwitch) switch
    {
        int bytes when bytes > 0 => bytes,
        long bytes when bytes > 0 => (int)Math.Min(bytes, int.MaxValue),
        string text when int.TryParse(text, out var bytes) && bytes > 0 => bytes,
        _ => DefaultBytesPerSize,
    };

    // After BytesPerSize: static initializers run in text order, and the pool's classes read it.
    /// <summary>The pool every session receives into.</summary>
    public static new PayloadPool Shared { get; } = new();

    private readonly SizeClass[] _classes = new SizeClass[MaxShift - MinShift + 1];

    private PayloadPool()
    {
        for (var i = 0; i < _classes.Length; i++)
            _classes[i] = new SizeClass(1 << (MinShift + i));
    }

    /// <inheritdoc />
    public override byte[] Rent(int minimumLength)
    {
        if (minimumLength <= 0)
            return [];
        var index = IndexOf(minimumLength);
        return index < 0 ? GC.AllocateUninitializedArray<byte>(minimumLength) : _classes[index].Rent();
    }

    /// <inheritdoc />
    public override void Return(byte[] array, bool clearArray = false)
    {
        if (array.Length == 0)
            return;
        var index = IndexOf(array.Length);
        // Only arrays of an exact class size came from here; anything else is left to the collector.
        if (index < 0 || _classes[index].Size != array.Length)
            return;
        if (clearArray)
            Array.Clear(array);
        _classes[index].Return(array);
    }

    private static int IndexOf(int length)
    {
        var shift = Math.Max(MinShift, 32 - BitOperations.LeadingZeroCount((uint)length - 1));
        return shift > MaxShift ? -1 : shift - MinShift;
    }

    private sealed class SizeClass(int size)
    {
        private readonly Lock _lock = new();
        private readonly byte[][] _free = new byte[Math.Max(16, BytesPerSize / size)][];
        private int _count;

        public int Size => size;

        public byte[] Rent()
        {
            lock (_lock)
            {
                if (_count > 0)
                {
                    var array = _free[--_count];
                    _free[_count] = null!;
                    return array;
                }
            }
            return GC.AllocateUninitializedArray<byte>(size);
        }

        public void Return(byte[] array)
        {
            lock (_lock)
            {
                if (_count < _free.Length)
                    _free[_count++] = array;
            }
        }
    }
}
