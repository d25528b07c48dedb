using System.Globalization;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Options;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// Settings under "AppConfig:" (environment: AppConfig__Name). <see cref="ConnectionString"/> signs
/// with HMAC; <see cref="Endpoint"/> alone uses Entra ID (DefaultAzureCredential: managed identity
/// in Azure). Neither set means the flags stay in the embedded store.
/// </summary>
public sealed class AppConfigOptions
{
    public string? ConnectionString { get; set; }

    public string? Endpoint { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrWhiteSpace(Endpoint);
}

/// <summary>A wrong AppConfig setting stops start-up with a sentence naming it.</summary>
public sealed class AppConfigOptionsValidator : IValidateOptions<AppConfigOptions>
{
    public ValidateOptionsResult Validate(string? name, AppConfigOptions options)
    {
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        var hasEndpoint = !string.IsNullOrWhiteSpace(options.Endpoint);
        if (hasConnectionString && hasEndpoint)
        {
            return ValidateOptionsResult.Fail(
                "Set AppConfig__ConnectionString (HMAC access key) or AppConfig__Endpoint (Entra ID), not both.");
        }
        if (hasConnectionString)
        {
            try
            {
                AppConfigurationConnection.Parse(options.ConnectionString);
            }
            catch (InvalidOperationException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message);
            }
        }
        if (hasEndpoint && (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme != Uri.UriSchemeHttps))
        {
            // Bearer tokens are only ever sent over TLS (Azure.Core refuses otherwise).
            return ValidateOptionsResult.Fail(
                $"AppConfig__Endpoint '{options.Endpoint}' is not an https URL; expected e.g. https://{{store}}.azconfig.io.");
        }
        return ValidateOptionsResult.Success;
    }
}

/// <summary>
/// The client's pipeline settings. Retries are Azure.Core's: exponential backoff with jitter, bounded
/// attempts, the server's <c>retry-after-ms</c> / <c>x-ms-retry-after-ms</c> / <c>Retry-After</c>
/// honoured as a minimum wait, and a network timeout per attempt (<c>Retry.NetworkTimeout</c>).
/// </summary>
public sealed class AppConfigurationClientOptions : ClientOptions
{
    public const string ApiVersion = "2023-11-01";

    public AppConfigurationClientOptions()
    {
        // A flag refresh must fail within seconds so the caller can go on serving its last snapshot.
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(400);
        Retry.MaxDelay = TimeSpan.FromSeconds(8);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        Diagnostics.ApplicationId = "SignalFunctions";
    }

    /// <summary>
    /// The longest server-requested wait this client sits through inside one call. A longer
    /// <c>retry-after</c> ends the call at once with <see cref="AppConfigurationException.RetryAfter"/>
    /// set, so the caller's own loop waits it out instead of a call hanging.
    /// </summary>
    public TimeSpan MaxServerRetryDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The clock that dates HMAC signatures (x-ms-date).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;
}

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
