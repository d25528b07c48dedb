namespace SignalFunctions.Ingest;

public sealed record ClickReceipt(string ClickId, bool Created, string Stage);
