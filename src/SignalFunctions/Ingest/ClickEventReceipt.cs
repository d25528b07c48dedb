namespace SignalFunctions.Ingest;

/// <summary><paramref name="Duplicate"/>: the event's id was already in the chronology, and nothing was written.</summary>
public sealed record ClickEventReceipt(string ClickId, string EventType, string Stage, int DroppedOldest, bool Duplicate);
