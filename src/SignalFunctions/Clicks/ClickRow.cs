namespace SignalFunctions.Clicks;

/// <summary>One click as the table and the export show it.</summary>
/// <param name="LastActivity">last_activity_at: its newest event's time, or date_updated when it has none.</param>
/// <param name="Events">The chronology as stored (JSON); null when the click has none yet.</param>
public sealed record ClickRow(
    long Id, string ClickId, string? UtmMedium, string? UtmCampaign, string? UtmTerm, string? UtmContent, bool Qualified, int Score,
    DateTime DateCreated, DateTime DateUpdated, DateTime LastActivity, int EventsDropped, string? Events);
