namespace SignalFunctions.Migrations;

/// <param name="LastError">The last batch that failed, until one commits again.</param>
/// <param name="PausedBy">Why the run is waiting right now (the throttle's reason), for the live progress line.</param>
/// <param name="Yielding">How long the run leaves the database to ingest after each batch, and why (<see cref="IngestYield"/>).</param>
public sealed record BackfillProgress(
    string Migration, long RowsScanned, long RowsCopied, long? RowsTotal, int BatchSize, double? RowsPerSecond, bool Completed,
    string? LastError = null, DateTime? LastErrorAt = null, string? PausedBy = null, string? Yielding = null)
{
    public double? Percent => RowsTotal is > 0 ? Math.Min(100.0, RowsScanned * 100.0 / RowsTotal.Value) : Completed ? 100 : null;

    public TimeSpan? Eta => !Completed && RowsTotal is { } total && RowsPerSecond is > 0
        ? TimeSpan.FromSeconds(Math.Max(0, total - RowsScanned) / RowsPerSecond.Value)
        : null;
}
