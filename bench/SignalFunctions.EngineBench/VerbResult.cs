namespace SignalFunctions.EngineBench;

public sealed record VerbResult(int ExitCode, string Output, TimeSpan Wall);
