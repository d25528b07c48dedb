namespace SignalFunctions.Hosting;

/// <summary>
/// What one timer run reports: one summary line, plus any detail worth a log line. Failed: part of
/// the run failed (its lines say which) after the rest ran, so the host records a failed invocation.
/// </summary>
public sealed record TimerOutcome(IReadOnlyList<string> Logs, bool Failed = false);
