using System.Globalization;

namespace MoqCluster.Bench.Load;

/// <summary>Number formatting for tables: three significant digits, an en dash for "not measured".</summary>
internal static class Format
{
    /// <summary>The dash shown for a missing value.</summary>
    public const string Missing = "–";

    /// <summary>Formats <paramref name="value"/> with about three significant digits.</summary>
    public static string Number(double? value)
    {
        if (value is not { } v || double.IsNaN(v) || double.IsInfinity(v))
            return Missing;
        var a = Math.Abs(v);
        var text = a >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture)
            : a >= 10 ? v.ToString("F1", CultureInfo.InvariantCulture)
            : a >= 1 ? v.ToString("F2", CultureInfo.InvariantCulture)
            : a == 0 ? "0"
            : v.ToString("G3", CultureInfo.InvariantCulture);
        return text;
    }

    /// <summary>A ratio such as <c>1.8×</c>.</summary>
    public static string Ratio(double? value) => value is null ? Missing : Number(value) + "×";

    /// <summary>The rate column: "sat" for saturating, else Mbit/s per broadcast.</summary>
    public static string Rate(double mbps) => mbps <= 0 ? "sat" : Number(mbps) + " Mb/s";

    /// <summary>Frame size as "1 KB" / "16 KB" / bytes.</summary>
    public static string Size(int bytes) => bytes % 1024 == 0 ? $"{bytes / 1024} KB" : $"{bytes} B";
}
