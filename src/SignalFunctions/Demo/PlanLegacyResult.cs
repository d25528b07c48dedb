namespace SignalFunctions.Demo;

public sealed record PlanLegacyResult(long Campaigns, long KpiSnapshots, long Decisions);
