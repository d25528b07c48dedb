namespace SignalFunctions.Hosting;

/// <summary>A timer run that failed, in part or whole; thrown so the host records a failed invocation.</summary>
public sealed class TimerRunFailedException(string timer, IReadOnlyList<string> lines, Exception? inner = null)
    : Exception($"Timer {timer} failed: {string.Join(" | ", lines)}", inner);
