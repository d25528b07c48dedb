namespace SignalFunctions.Partitions;

/// <summary>A partition written to a compressed CSV file and read back: its path, size, SHA-256 and rows.</summary>
public sealed record ArchivedFile(string Path, long Bytes, string Sha256, long Rows);
