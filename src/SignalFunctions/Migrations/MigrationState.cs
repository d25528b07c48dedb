namespace SignalFunctions.Migrations;

public sealed record MigrationState(
    string Migration, string Stage, int Percent, string PreviousStage, long Version, DateTime UpdatedAt,
    BackfillSummary? Backfill, ParitySummary? Parity, long RepairPending, bool CutOver, IReadOnlyList<StageHistoryEntry> History,
    IReadOnlyList<GuardActionEntry> GuardActions);
