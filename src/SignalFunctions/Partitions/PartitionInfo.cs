using System.Text.Json.Serialization;

namespace SignalFunctions.Partitions;

/// <summary>
/// One partition of signal_events. A null Lower is MINVALUE (the history partition), a null Upper
/// MAXVALUE. Rows is PostgreSQL's estimate (reltuples, -1 before the first ANALYZE), cheap on any size.
/// </summary>
public sealed record PartitionInfo(string Name, DateTime? Lower, DateTime? Upper, bool DetachPending, long Rows, long Bytes)
{
    public string Range => RangeOf(Lower, Upper);

    /// <summary>The estimate as an operator reads it: "~1,234 rows", or "rows unknown" before an ANALYZE.</summary>
    [JsonIgnore]
    public string RowsText => Rows < 0 ? "rows unknown" : $"~{Rows:N0} rows";

    public static string RangeOf(DateTime? lower, DateTime? upper) =>
        $"{lower?.ToString("yyyy-MM-dd HH:mm:ss") ?? "MINVALUE"} .. {upper?.ToString("yyyy-MM-dd HH:mm:ss") ?? "MAXVALUE"}";
}
