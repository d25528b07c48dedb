namespace SignalFunctions.Migrations;

/// <summary>The latest parity report, with its key lists capped at <see cref="MigrationOverview.KeysShown"/> (the counts are exact).</summary>
/// <param name="RepairError">Why repair could not fix this report's keys, when it tried and failed.</param>
/// <param name="RowsFenced">Rows written after <paramref name="ComparedThrough"/>, left out as in flight.</param>
public sealed record ParitySummary(
    long Id, DateTime FinishedAt, bool Clean, int RangesChecked, long RowsCompared, DateTime? ComparedThrough, long RowsFenced, double DurationSeconds,
    long Missing, long Extra, long Different,
    IReadOnlyList<string> MissingKeys, IReadOnlyList<string> ExtraKeys, IReadOnlyList<string> DifferentKeys,
    IReadOnlyList<RuleResult> Validation, string? RepairError);
