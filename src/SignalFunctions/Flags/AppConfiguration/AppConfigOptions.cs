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
