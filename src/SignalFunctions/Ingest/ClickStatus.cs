namespace SignalFunctions.Ingest;

public sealed record ClickStatus(string ClickId, bool Qualified, int Score, string EventType);
