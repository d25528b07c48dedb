namespace SignalFunctions.Migrations;

/// <param name="KeysError">Why the latest parity report's keys could not be fixed (recorded on the report); null when they were, or none needed it.</param>
public sealed record RepairResult(string Migration, int Repaired, int Failed, int Remaining, bool Skipped, int KeysFixed = 0, string? KeysError = null);
