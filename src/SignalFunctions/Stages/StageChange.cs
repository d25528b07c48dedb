namespace SignalFunctions.Stages;

/// <summary>
/// One stage change as written. Replaced: why the app had rejected the flag this write replaced
/// (null when it replaced a valid flag, or none).
/// </summary>
public sealed record StageChange(string Migration, Stage OldStage, int OldPercent, Stage NewStage, int NewPercent, long Version, string? Replaced = null)
{
    public override string ToString() =>
        $"{Migration}: {OldStage.Name()} ({OldPercent}%) -> {NewStage.Name()} ({NewPercent}%), version {Version}"
        + (Replaced is null ? "" : $"; replaced a flag the app had rejected ({Replaced})");
}
