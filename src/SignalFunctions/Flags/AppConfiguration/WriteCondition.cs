namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>Optimistic concurrency for a write: none, If-Match an ETag, or If-None-Match * (create only).</summary>
public readonly record struct WriteCondition(string? IfMatch, bool IfAbsent)
{
    public static WriteCondition None => default;

    public static WriteCondition Matching(string etag) => new(etag, false);

    public static WriteCondition Absent => new(null, true);
}
