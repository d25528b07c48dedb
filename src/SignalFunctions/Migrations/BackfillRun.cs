namespace SignalFunctions.Migrations;

public sealed record BackfillRun(BackfillProgress Progress, long RowsThisRun, TimeSpan Elapsed, TimeSpan Paused, string Outcome)
{
    /// <summary>A batch the new schema refuses: every run stops at it until its rows are fixed.</summary>
    public bool Stalled => Outcome.StartsWith("stalled", StringComparison.Ordinal);
}
