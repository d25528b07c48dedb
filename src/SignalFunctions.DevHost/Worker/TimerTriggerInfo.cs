namespace SignalFunctions.DevHost.Worker;

/// <summary>A timer trigger: its schedule as declared (maybe %Setting%) and as the host resolved it.</summary>
public sealed record TimerTriggerInfo(string BindingName, string Schedule, string ResolvedSchedule);
