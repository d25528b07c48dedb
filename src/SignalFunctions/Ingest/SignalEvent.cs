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
}
