namespace SignalFunctions.Migrations;

public sealed record ArchiveResult(string Migration, IReadOnlyList<string> Backups, string ArchivedAs, long BytesBefore, long BytesAfter);
