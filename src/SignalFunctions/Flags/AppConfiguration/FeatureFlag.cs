using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// A feature flag's value in App Configuration (content type <see cref="FeatureFlagKeys.ContentType"/>),
/// as Microsoft's FeatureFlag v2.0.0 schema defines it: the JSON the portal's Feature manager edits
/// and Microsoft.FeatureManagement evaluates. Fields this model does not name (display_name,
/// telemetry, anything newer) are kept in <see cref="Extra"/> so a read-modify-write keeps them.
/// Azure.Data.AppConfiguration's FeatureFlagConfigurationSetting does the same; it is not available here.
/// </summary>
public sealed class FeatureFlag
{
    [JsonPropertyName("id"), JsonRequired]
    public string Id { get; set; } = "";

    [JsonPropertyName("description")]
    public string? Description { get; set; }

    [JsonPropertyName("enabled")]
    public bool Enabled { get; set; }

    [JsonPropertyName("conditions")]
    public FeatureConditions? Conditions { get; set; }

    [JsonPropertyName("variants")]
    public List<FeatureVariant>? Variants { get; set; }

    [JsonPropertyName("allocation")]
    public FeatureAllocation? Allocation { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
