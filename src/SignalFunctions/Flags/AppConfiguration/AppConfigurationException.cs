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
