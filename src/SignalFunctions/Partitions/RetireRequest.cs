namespace SignalFunctions.Partitions;

/// <param name="Partition">Only this one; null: every partition due, oldest first.</param>
/// <param name="ArchiveDirectory">Where to write each partition before dropping it; null: drop only.</param>
/// <param name="Limit">The most partitions retired in this run.</param>
public sealed record RetireRequest(string? Partition, string? ArchiveDirectory, bool DryRun, string Actor, int Limit = int.MaxValue);
