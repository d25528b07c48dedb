namespace SignalFunctions.DevHost.Triggers;

/// <summary>What the host remembers of a timer between runs (in Azure: in AzureWebJobsStorage).</summary>
public sealed record ScheduleStatus(DateTime Last, DateTime Next, DateTime LastUpdated);
