using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

public sealed class FeatureVariant
{
    [JsonPropertyName("name"), JsonRequired]
    public string Name { get; set; } = "";

    [JsonPropertyName("configuration_value")]
    public JsonElement? ConfigurationValue { get; set; }

    /// <summary>"None", "Enabled" or "Disabled": changes the flag's enabled state, never its variant.</summary>
    [JsonPropertyName("status_override")]
    public string? StatusOverride { get; set; }
}
