using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

public sealed class FeatureAllocation
{
    [JsonPropertyName("default_when_disabled")]
    public string? DefaultWhenDisabled { get; set; }

    [JsonPropertyName("default_when_enabled")]
    public string? DefaultWhenEnabled { get; set; }

    [JsonPropertyName("user")]
    public List<JsonElement>? User { get; set; }

    [JsonPropertyName("group")]
    public List<JsonElement>? Group { get; set; }

    [JsonPropertyName("percentile")]
    public List<PercentileAllocation>? Percentile { get; set; }

    /// <summary>
    /// The hash input after the user id. Microsoft.FeatureManagement uses "allocation\n{id}" when it
    /// is absent; we always write the flag id (see <see cref="StageFeatureFlag"/>).
    /// </summary>
    [JsonPropertyName("seed")]
    public string? Seed { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
