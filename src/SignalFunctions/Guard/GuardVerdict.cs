using SignalFunctions.Stages;

namespace SignalFunctions.Guard;

/// <summary>One migration's outcome of a guard pass: the line for the logs, and the step back when there was one.</summary>
public sealed record GuardVerdict(string Migration, string Line, GuardTrip? Trip = null, StageChange? Change = null);
