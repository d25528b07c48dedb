namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>One page of a listing. <see cref="NotModified"/>: it answered 304 to its previous ETag, so it has no items.</summary>
public sealed record KeyValuePage(IReadOnlyList<KeyValue> Items, string? ETag, bool NotModified);
