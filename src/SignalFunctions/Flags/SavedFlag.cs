using System.Text.Json.Serialization;

namespace SignalFunctions.Flags;

internal sealed record SavedFlag(
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("percent")] int Percent,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt);
