using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

public sealed class FeatureClientFilter
{
    [JsonPropertyName("name"), JsonRequired]
    public string Name { get; set; } = "";

    [JsonPropertyName("parameters")]
    public JsonElement? Parameters { get; set; }
}
