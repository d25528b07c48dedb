namespace SignalFunctions.Ingest;

/// <summary>
/// One event for a click's chronology. <paramref name="Id"/> is the client's: an event sent again
/// with the same id (a retry) is stored once, as signal events are. The id lives in the
/// chronology entry, so a retry is recognised while its entry is there: not at stage off (no
/// chronology is written), nor after Clicks:MaxEventsPerClick newer events pushed the entry out.
/// </summary>
public sealed record ClickEvent(string EventType, Guid? Id);
