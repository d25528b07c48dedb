using System.Globalization;

namespace SignalFunctions.Views;

/// <summary>What one refresh did. Buckets are the (content, day) pairs recomputed (all of them in a full one); rows are rollup rows.</summary>
public sealed record RollupRefresh(
    bool Skipped, RefreshMode Mode, string? FullReason, long Buckets, long LoggedBuckets, long RowsWritten, long RowsDeleted,
    long? RowsTotal, TimeSpan Elapsed, TimeSpan WatermarkLag)
{
    public static RollupRefresh SkippedRun(TimeSpan elapsed) => new(true, RefreshMode.Incremental, null, 0, 0, 0, 0, null, elapsed, TimeSpan.Zero);

    public string Summary
    {
        get
        {
            var c = CultureInfo.InvariantCulture;
            if (Skipped)
            {
                return $"{DailyRollup.ViewName}: skipped, another refresh holds the lock";
            }
            var took = Elapsed.TotalSeconds >= 10
                ? string.Create(c, $"{Elapsed.TotalSeconds:0.0} s")
                : string.Create(c, $"{Elapsed.TotalMilliseconds:0} ms");
            var line = Mode == RefreshMode.Full
                ? string.Create(c, $"{DailyRollup.ViewName}: full ({FullReason}), {Buckets:N0} buckets, {RowsTotal:N0} rows, {RowsWritten:N0} written, {RowsDeleted:N0} removed, in {took}")
                : string.Create(c, $"{DailyRollup.ViewName}: incremental, {Buckets:N0} buckets recomputed ({LoggedBuckets:N0} from updates and deletes), {RowsWritten:N0} rows written, {RowsDeleted:N0} removed, in {took}");
            // An open transaction holds the watermark back (see DailyRollup): say so when it matters.
            return WatermarkLag > TimeSpan.FromMinutes(1)
                ? line + string.Create(c, $"; watermark held {WatermarkLag.TotalMinutes:0} min back by an open transaction")
                : line;
        }
    }
}
