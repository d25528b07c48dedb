namespace SignalFunctions.Flags;

/// <summary>A key-value that App Configuration says was modified or deleted. Label null or "" is "no label".</summary>
public sealed record KeyValueChange(bool Deleted, string Key, string? Label, string? SyncToken);
