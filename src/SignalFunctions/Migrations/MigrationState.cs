using SignalFunctions.Partitions;

namespace SignalFunctions.Migrations;

/// <param name="NextStage">The stage after this one; null at the last.</param>
/// <param name="NextStageBlockedBy">
/// Why `stage MIGRATION NEXT` would be refused now, each reason as it prints it; empty when it would pass.
/// </param>
/// <param name="Partitions">The time partitions of one of this migration's tables (signal_events); null for the others.</param>
public sealed record MigrationState(
    string Migration, string Stage, int Percent, string PreviousStage, long Version, DateTime UpdatedAt,
    BackfillSummary? Backfill, ParitySummary? Parity, long RepairPending, bool CutOver, IReadOnlyList<StageHistoryEntry> History,
    IReadOnlyList<GuardActionEntry> GuardActions, string? NextStage, IReadOnlyList<string> NextStageBlockedBy, GuardState Guard,
    PartitionsSummary? Partitions = null);
