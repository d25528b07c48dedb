namespace SignalFunctions.Partitions;

/// <summary>
/// What retention would do now. RetireBefore: partitions ending on or before it are due (null while
/// Events__RetentionMonths is 0). Unfinished: retirements a run left part way, resumed first.
/// KeptBecause: the gate's refusal, null when nothing is due or nothing holds it back.
/// </summary>
public sealed record RetentionPlan(
    int RetentionMonths, DateTime? RetireBefore, IReadOnlyList<PartitionInfo> Partitions, IReadOnlyList<PartitionInfo> Due,
    IReadOnlyList<PartitionArchive> Unfinished, string? KeptBecause);
