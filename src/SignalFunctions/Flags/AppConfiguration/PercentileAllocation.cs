using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

public sealed class PercentileAllocation
{
    [JsonPropertyName("variant"), JsonRequired]
    public string Variant { get; set; } = "";

    [JsonPropertyName("from"), JsonRequired]
    public double From { get; set; }

    [JsonPropertyName("to"), JsonRequired]
    public double To { get; set; }
}
