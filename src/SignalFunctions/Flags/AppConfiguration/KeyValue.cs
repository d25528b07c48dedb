using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>One key-value as App Configuration returns it (REST "Key-value": the item of GET /kv).</summary>
public sealed record KeyValue
{
    [JsonPropertyName("key")]
    public required string Key { get; init; }

    /// <summary>Null for "no label".</summary>
    [JsonPropertyName("label")]
    public string? Label { get; init; }

    [JsonPropertyName("content_type")]
    public string? ContentType { get; init; }

    [JsonPropertyName("value")]
    public string? Value { get; init; }

    /// <summary>Unquoted; the client quotes it for If-Match / If-None-Match.</summary>
    [JsonPropertyName("etag")]
    public string ETag { get; init; } = "";

    [JsonPropertyName("last_modified")]
    public DateTimeOffset? LastModified { get; init; }

    [JsonPropertyName("locked")]
    public bool Locked { get; init; }

    [JsonPropertyName("tags")]
    public IReadOnlyDictionary<string, string?>? Tags { get; init; }
}
