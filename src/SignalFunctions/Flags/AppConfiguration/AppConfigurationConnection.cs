namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// An App Configuration access key, parsed from <c>Endpoint=https://{store}.azconfig.io;Id={id};Secret={base64}</c>
/// (the form the portal's "Access keys" blade copies).
/// </summary>
public sealed class AppConfigurationConnection
{
    public const string SettingName = "AppConfig__ConnectionString";

    private AppConfigurationConnection(Uri endpoint, string id, byte[] secret)
    {
        Endpoint = endpoint;
        Id = id;
        Secret = secret;
    }

    public Uri Endpoint { get; }

    /// <summary>The access key id: the HMAC <c>Credential</c>.</summary>
    public string Id { get; }

    /// <summary>The base64-decoded access key value: the HMAC key.</summary>
    internal byte[] Secret { get; }

    /// <summary>Parses a connection string; a malformed one fails with a sentence naming the setting.</summary>
    public static AppConfigurationConnection Parse(string? connectionString, string settingName = SettingName)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw Malformed(settingName, "it is empty");
        }

        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // The secret is base64 and ends in '=': split on ';' first, then on the first '=' only.
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var (part, index) in parts.Select((part, index) => (part, index)))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                // Never echo the text: it may be the secret.
                throw Malformed(settingName, $"part {index + 1} is not Name=value");
            }
            fields[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        if (!fields.TryGetValue("Endpoint", out var endpointText) || string.IsNullOrEmpty(endpointText))
        {
            throw Malformed(settingName, "Endpoint is missing");
        }
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("https" or "http"))
        {
            throw Malformed(settingName, $"Endpoint '{endpointText}' is not an absolute http(s) URL");
        }
        if (!fields.TryGetValue("Id", out var id) || string.IsNullOrEmpty(id))
        {
            throw Malformed(settingName, "Id is missing");
        }
        if (!fields.TryGetValue("Secret", out var secretText) || string.IsNullOrEmpty(secretText))
        {
            throw Malformed(settingName, "Secret is missing");
        }
        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(secretText);
        }
        catch (FormatException)
        {
            throw Malformed(settingName, "Secret is not base64");
        }
        return new AppConfigurationConnection(new Uri(endpoint.GetLeftPart(UriPartial.Authority)), id, secret);
    }

    public override string ToString() => $"Endpoint={Endpoint};Id={Id};Secret=***";

    private static InvalidOperationException Malformed(string settingName, string reason) =>
        new($"{settingName} is not a valid App Configuration connection string: {reason}. " +
            "Expected Endpoint=https://{store}.azconfig.io;Id={id};Secret={secret}, as the portal's Access keys blade shows it.");
}
