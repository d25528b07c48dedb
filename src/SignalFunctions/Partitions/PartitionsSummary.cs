namespace SignalFunctions.Partitions;

/// <summary>
/// signal_events' partitions as `status`, GET /api/migrations and the ops console show them. CoveredFrom
/// null: from MINVALUE (a history partition); MonthsAhead: whole months covered past this one.
/// Archives: the last five retirements, newest first, unfinished ones included.
/// </summary>
public sealed record PartitionsSummary(
    string Table, bool Partitioned, DateTime? CoveredFrom, DateTime? CoveredTo, int MonthsAhead,
    int RetentionMonths, string RetentionAction, string? ArchiveDirectory, DateTime? RetireBefore,
    IReadOnlyList<PartitionInfo> Partitions, IReadOnlyList<PartitionInfo> Due, string? KeptBecause,
    IReadOnlyList<PartitionArchive> Archives);
