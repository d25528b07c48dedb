namespace SignalFunctions.Ingest;

public sealed record ClickRecord(
    string ClickId, string? Platform, string? UtmSource, string? UtmMedium, string? UtmCampaign, string? UtmTerm, string? UtmContent);
