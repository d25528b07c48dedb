namespace SignalFunctions.Migrations;

/// <param name="ComparedThrough">Rows written up to this moment (the database's clock) were compared; later ones were inside the fence.</param>
/// <param name="RowsFenced">Rows of the new side left out because they were written within the fence.</param>
/// <param name="Scope">The one partition compared; null for the whole table, the only reports gates judge by.</param>
public sealed record ParityReport(
    long Id, string Migration, DateTime StartedAt, DateTime FinishedAt, int RangesChecked, long RowsCompared,
    long MissingCount, long ExtraCount, long DifferentCount,
    IReadOnlyList<string> MissingKeys, IReadOnlyList<string> ExtraKeys, IReadOnlyList<string> DifferentKeys,
    IReadOnlyList<RuleResult> Validation, bool Clean, string? RepairError = null,
    DateTime? ComparedThrough = null, long RowsFenced = 0, string? Scope = null)
{
    public double DurationSeconds => (FinishedAt - StartedAt).TotalSeconds;

    /// <summary>Data loss or divergence, as opposed to a rule warning.</summary>
    public bool Equal => MissingCount + ExtraCount + DifferentCount == 0;
}
