using System.Text.Json.Serialization;

namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>GET /kv's body: <c>{"items":[…],"etag":"…","@nextLink":"…"}</c>.</summary>
internal sealed record KeyValueListBody(
    [property: JsonPropertyName("items")] IReadOnlyList<KeyValue>? Items,
    [property: JsonPropertyName("etag")] string? ETag,
    [property: JsonPropertyName("@nextLink")] string? NextLink);
