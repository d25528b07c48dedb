using Azure.Core;

namespace SignalFunctions.Flags.AppConfiguration;

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
