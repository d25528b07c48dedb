namespace SignalFunctions.Flags;

/// <summary>One read of the store: the snapshot and the page ETags to ask with next time.</summary>
public sealed record StoreRead(FlagSnapshot Snapshot, IReadOnlyList<string?>? FlagETags, IReadOnlyList<string?>? SettingsETags);
