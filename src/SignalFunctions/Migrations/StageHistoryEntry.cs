namespace SignalFunctions.Migrations;

public sealed record StageHistoryEntry(string FromStage, string ToStage, int Percent, string Actor, bool Forced, string? Reason, DateTime ChangedAt);
