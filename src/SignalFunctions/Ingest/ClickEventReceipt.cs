namespace SignalFunctions.Ingest;

public sealed record ClickEventReceipt(string ClickId, string EventType, string Stage, int DroppedOldest);
