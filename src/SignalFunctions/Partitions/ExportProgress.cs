namespace SignalFunctions.Partitions;

/// <summary>
/// How far an archive's export has come: rows (counted by line ends, so about), CSV characters read
/// from PostgreSQL (bytes, for ASCII) and compressed bytes written.
/// </summary>
public sealed record ExportProgress(string Partition, long Rows, long TotalRows, long CsvBytes, long FileBytes, TimeSpan Elapsed);
