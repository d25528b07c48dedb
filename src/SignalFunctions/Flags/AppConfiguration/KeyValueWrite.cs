namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>What to write with PUT /kv/{key}.</summary>
public sealed record KeyValueWrite(string Key, string? Label, string? Value, string? ContentType = null,
    IReadOnlyDictionary<string, string?>? Tags = null);
