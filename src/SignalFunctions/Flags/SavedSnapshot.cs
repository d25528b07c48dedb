namespace SignalFunctions.Flags;

public sealed record SavedSnapshot(FlagSnapshot Snapshot, DateTimeOffset SavedAt);
