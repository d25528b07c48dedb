namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// App Configuration could not do what was asked. <see cref="Status"/> is 0 when no answer came
/// (unreachable, timed out); <see cref="IsTransient"/> says whether trying later may succeed.
/// </summary>
public class AppConfigurationException(string message, int status, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public int Status { get; } = status;

    /// <summary>How long the service asked to wait (429/503), when it said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool IsTransient => Status is 0 or 408 or 429 or >= 500;
}

/// <summary>412: the key-value changed since it was read (its ETag no longer matches), or it exists on a create.</summary>
public sealed class AppConfigurationConcurrencyException(string key, string? label, string message)
    : AppConfigurationException(message, 412)
{
    public string Key { get; } = key;
    public string? Label { get; } = label;
}

/// <summary>409: the key-value is locked (read-only) in App Configuration; unlock it there before writing.</summary>
public sealed class AppConfigurationLockedException(string key, string? label, string message)
    : AppConfigurationException(message, 409)
{
    public string Key { get; } = key;
    public string? Label { get; } = label;
}
