namespace SignalFunctions.Brands;

/// <summary>One brand, collector and UTC day of the dashboard, as both sides compute it.</summary>
public sealed record BrandDay(
    DateOnly MetricDate, string CollectorType, decimal? AvgVisibility, decimal? AvgShare, long PresenceCount, long TotalResponses,
    decimal? AvgSentiment, long PositiveCount, long NegativeCount, long NeutralCount, DateTime FirstResponse, DateTime LastResponse);
