using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

public sealed class FeatureConditions
{
    /// <summary>"Any" (the default) or "All".</summary>
    [JsonPropertyName("requirement_type")]
    public string? RequirementType { get; set; }

    [JsonPropertyName("client_filters")]
    public List<FeatureClientFilter>? ClientFilters { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
