using System.Globalization;

namespace SignalFunctions.Migrations;

/// <summary>
/// One partition of a migration's target, as parity compares it: the rows of both sides whose time
/// lies in [From, To). A null bound is the partition's MINVALUE or MAXVALUE, and is left out of the
/// SQL rather than passed as NULL: "(@from IS NULL OR …)" would keep the planner from pruning.
/// </summary>
public sealed record ParityScope(string Partition, DateTime? From, DateTime? To)
{
    /// <summary>The bounds as the operator reads them, e.g. "[2026-08-01, 2026-09-01)".</summary>
    public string Range => $"[{Text(From, "MINVALUE")}, {Text(To, "MAXVALUE")})";

    private static string Text(DateTime? bound, string none) => bound switch
    {
        null => none,
        { TimeOfDay.Ticks: 0 } day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        { } time => time.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };
}
