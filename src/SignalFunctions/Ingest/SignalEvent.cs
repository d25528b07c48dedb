namespace SignalFunctions.Ingest;

/// <summary>A validated signal event, in the new table's terms.</summary>
public sealed record SignalEvent(
    Guid Id,
    Guid SignalId,
    Guid ContentId,
    string ContentType,
    Guid? UserId,
    string? SessionId,
    string TargetType,
    Guid TargetId,
    string EventType,
    string SourceComponent,
    string MetadataJson,
    DateTimeOffset CreatedAt)
{
    /// <summary>
    /// The legacy table holds article events only, and never accepted the 'distribution'
    /// component: anything else lives in signal_events alone, whatever the stage.
    /// </summary>
    public bool HasLegacyHome => ContentType == "article" && SourceComponent != "distribution";

    /// <summary>
    /// The client chose the id but not the time, so CreatedAt is the server's clock: a retry would get
    /// another time and, the key being (id, created_at), be stored again. The writer takes the time the
    /// id was first seen instead (signal_event_first_seen).
    /// </summary>
    public bool NeedsFirstSeen { get; init; }
}
