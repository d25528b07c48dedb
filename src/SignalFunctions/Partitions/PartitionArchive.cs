namespace SignalFunctions.Partitions;

/// <summary>
/// One partition retention took off signal_events (a row of partition_archives): the step it reached
/// (detaching, detached, archived, dropped) and, for an archive, the file and its SHA-256.
/// </summary>
public sealed record PartitionArchive(
    long Id, string Partition, DateTime? RangeFrom, DateTime RangeTo, string State, long? Rows, long? TableBytes,
    string? File, long? FileBytes, string? Sha256, string Actor, DateTime StartedAt, DateTime? FinishedAt)
{
    public const string Detaching = "detaching";
    public const string Detached = "detached";
    public const string Archived = "archived";
    public const string Dropped = "dropped";

    /// <summary>The columns in the order of the constructor, for Dapper.</summary>
    public const string Columns = """
        id, partition, range_from AS rangefrom, range_to AS rangeto, state, rows, table_bytes AS tablebytes,
        file, file_bytes AS filebytes, sha256, actor, started_at AS startedat, finished_at AS finishedat
        """;

    public string Range => PartitionInfo.RangeOf(RangeFrom, RangeTo);
}
