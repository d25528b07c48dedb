namespace SignalFunctions.Partitions;

/// <summary>One retirement run: what it took on (or would, in a dry run) and what each ended as.</summary>
public sealed record RetentionRun(RetentionPlan Plan, IReadOnlyList<PartitionInfo> Targets, IReadOnlyList<PartitionArchive> Retired);
