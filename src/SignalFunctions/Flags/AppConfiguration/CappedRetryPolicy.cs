using System.Globalization;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// Azure.Core's retry policy, plus the one thing it lacks for us: a cap on how long a server's
/// <c>retry-after</c> may hold a call (see <see cref="AppConfigurationClientOptions.MaxServerRetryDelay"/>).
/// </summary>
internal sealed class CappedRetryPolicy(int maxRetries, DelayStrategy delay, TimeSpan maxServerDelay)
    : RetryPolicy(maxRetries, delay)
{
    protected override bool ShouldRetry(HttpMessage message, Exception? exception) =>
        base.ShouldRetry(message, exception) && !AsksTooLong(message);

    protected override async ValueTask<bool> ShouldRetryAsync(HttpMessage message, Exception? exception) =>
        await base.ShouldRetryAsync(message, exception).ConfigureAwait(false) && !AsksTooLong(message);

    private bool AsksTooLong(HttpMessage message) =>
        message.HasResponse && ServerDelay(message.Response) is { } wait && wait > maxServerDelay;

    /// <summary>
    /// The wait a 429/503 asks for. Azure.Core reads the same three headers for its own delay, but
    /// keeps that reader internal (ResponseHeaders.RetryAfter), so this repeats it.
    /// </summary>
    public static TimeSpan? ServerDelay(Response response)
    {
        foreach (var header in (string[])["retry-after-ms", "x-ms-retry-after-ms"])
        {
            if (response.Headers.TryGetValue(header, out var ms) &&
                double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
            {
                return TimeSpan.FromMilliseconds(milliseconds);
            }
        }
        if (response.Headers.TryGetValue("Retry-After", out var retryAfter))
        {
            if (int.TryParse(retryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }
            if (DateTimeOffset.TryParse(retryAfter, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return at - DateTimeOffset.UtcNow;
            }
        }
        return null;
    }
}
