namespace SignalFunctions.Ingest;

public sealed record IngestReceipt(int Accepted, int Duplicates);
