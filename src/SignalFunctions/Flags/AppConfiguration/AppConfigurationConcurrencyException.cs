namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>412: the key-value changed since it was read (its ETag no longer matches), or it exists on a create.</summary>
public sealed class AppConfigurationConcurrencyException(string key, string? label, string message)
    : AppConfigurationException(message, 412)
{
    public string Key { get; } = key;
    public string? Label { get; } = label;
}
