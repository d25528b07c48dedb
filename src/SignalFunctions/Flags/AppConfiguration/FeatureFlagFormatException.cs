namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>A flag whose JSON is invalid, or that says something a stage flag cannot mean. The flag is rejected whole.</summary>
public sealed class FeatureFlagFormatException(string key, string reason)
    : FormatException($"Feature flag '{key}' is rejected: {reason}.")
{
    public string Key { get; } = key;
    public string Reason { get; } = reason;
}
