namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>409: the key-value is locked (read-only) in App Configuration; unlock it there before writing.</summary>
public sealed class AppConfigurationLockedException(string key, string? label, string message)
    : AppConfigurationException(message, 409)
{
    public string Key { get; } = key;
    public string? Label { get; } = label;
}
