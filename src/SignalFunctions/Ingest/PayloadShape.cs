namespace SignalFunctions.Ingest;

/// <summary>The two payloads that carry signal events.</summary>
public enum PayloadShape
{
    /// <summary>POST /api/signal/events: content_id, content_type, signal_id.</summary>
    Signal,

    /// <summary>POST /api/blog/attribution/events: the legacy blog_article_id payload, unchanged.</summary>
    LegacyAttribution,
}
