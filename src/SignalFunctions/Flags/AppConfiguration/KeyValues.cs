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

/// <summary>
/// Which key-values to list: <see cref="KeyFilter"/> is an exact key or a prefix ending in <c>*</c>;
/// <see cref="Label"/> null means "no label" (sent as <c>%00</c>), <c>*</c> any label, else that label.
/// </summary>
public sealed record KeyValueSelector(string KeyFilter, string? Label = null);

/// <summary>What to write with PUT /kv/{key}.</summary>
public sealed record KeyValueWrite(string Key, string? Label, string? Value, string? ContentType = null,
    IReadOnlyDictionary<string, string?>? Tags = null);

/// <summary>One page of a listing. <see cref="NotModified"/>: it answered 304 to its previous ETag, so it has no items.</summary>
public sealed record KeyValuePage(IReadOnlyList<KeyValue> Items, string? ETag, bool NotModified);

/// <summary>
/// Every page of a listing, with their ETags for the next conditional listing. <see cref="Unchanged"/>:
/// every page answered 304 to its ETag and no page came or went, so the caller's copy is current.
/// </summary>
public sealed record KeyValueListing(IReadOnlyList<KeyValuePage> Pages, bool Unchanged)
{
    public IEnumerable<KeyValue> Items => Pages.SelectMany(page => page.Items);

    /// <summary>Null where the service sent no page ETag; such a page never counts as unchanged.</summary>
    public IReadOnlyList<string?> PageETags => Pages.Select(page => page.ETag).ToList();
}

/// <summary>The result of a conditional read of one key.</summary>
public enum KeyValueReadStatus
{
    Changed,
    NotModified,
    NotFound,
}

public sealed record KeyValueRead(KeyValueReadStatus Status, KeyValue? Value);

/// <summary>Optimistic concurrency for a write: none, If-Match an ETag, or If-None-Match * (create only).</summary>
public readonly record struct WriteCondition(string? IfMatch, bool IfAbsent)
{
    public static WriteCondition None => default;

    public static WriteCondition Matching(string etag) => new(etag, false);

    public static WriteCondition Absent => new(null, true);
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KeyValue))]
[JsonSerializable(typeof(KeyValueListBody))]
[JsonSerializable(typeof(KeyValueWriteBody))]
internal sealed partial class KeyValueJson : JsonSerializerContext;

/// <summary>GET /kv's body: <c>{"items":[…],"etag":"…","@nextLink":"…"}</c>.</summary>
internal sealed record KeyValueListBody(
    [property: JsonPropertyName("items")] IReadOnlyList<KeyValue>? Items,
    [property: JsonPropertyName("etag")] string? ETag,
    [property: JsonPropertyName("@nextLink")] string? NextLink);

/// <summary>PUT /kv/{key}'s body.</summary>
internal sealed record KeyValueWriteBody(
    [property: JsonPropertyName("value")] string? Value,
    [property: JsonPropertyName("content_type")] string? ContentType,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string?>? Tags);
