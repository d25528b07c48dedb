using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>PUT /kv/{key}'s body.</summary>
internal sealed record KeyValueWriteBody(
    [property: JsonPropertyName("value")] string? Value,
    [property: JsonPropertyName("content_type")] string? ContentType,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string?>? Tags);
