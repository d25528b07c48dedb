namespace SignalFunctions.Views;

/// <summary>What refreshing one declared view did, in a line for the timer's Logs and the verb.</summary>
public sealed record ViewRefreshResult(string View, bool Skipped, string Summary, TimeSpan Elapsed, RollupRefresh? Rollup = null);
