namespace SignalFunctions.Demo;

public sealed record DemoDataResult(
    string Run, long Events, long Saves, long MetricsInserted, long MetricsUpdated, long Links, long Clicks,
    long QualifiedClicks, TimeSpan EventsElapsed, TimeSpan Elapsed, BrandPositionsResult? Positions = null, PlanLegacyResult? Plans = null);
