namespace SignalFunctions.Migrations;

/// <param name="LastError">The last batch that failed (until one commits again), and when.</param>
public sealed record BackfillSummary(
    long RowsScanned, long RowsCopied, long? RowsTotal, double? Percent, double? RowsPerSecond, double? EtaSeconds, bool Completed,
    string? LastError, DateTime? LastErrorAt);
