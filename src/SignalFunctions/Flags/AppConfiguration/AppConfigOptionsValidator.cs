using Microsoft.Extensions.Options;

namespace SignalFunctions.Flags.AppConfiguration;

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
