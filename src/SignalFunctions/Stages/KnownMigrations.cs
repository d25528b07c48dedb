namespace SignalFunctions.Stages;

/// <summary>The migrations that have a stage flag, with the key their rollout is bucketed by.</summary>
public static class KnownMigrations
{
    public const string SignalEvents = "signal-events";
    public const string ClickEvents = "click-events";
    public const string SignalMetrics = "signal-metrics";
    public const string SignalEmbeds = "signal-embeds";
    public const string SignalSaves = "signal-saves";
    public const string BrandMetrics = "brand-metrics";
    public const string IntelligenceEvents = "intelligence-events";
    public const string ContentQueue = "content-queue";
    public const string KpiHistory = "kpi-history";

    public static readonly IReadOnlyDictionary<string, string> JourneyKeys = new Dictionary<string, string>
    {
        [SignalEvents] = "signal_id",
        [ClickEvents] = "click_id",
    };

    /// <summary>Every migration with a stage flag (those this app ingests, and those written by others).</summary>
    public static readonly IReadOnlyList<string> Names =
        [SignalEvents, SignalMetrics, SignalEmbeds, SignalSaves, ClickEvents, BrandMetrics, IntelligenceEvents, KpiHistory, ContentQueue];
}
