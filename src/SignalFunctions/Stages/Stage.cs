namespace SignalFunctions.Stages;

/// <summary>The six migration stages, in rollout order (ARCHITECTURE.md, "Migration stages").</summary>
public enum Stage
{
    Off,
    DualWrite,
    Shadow,
    Live,
    Rampdown,
    Complete,
}

public enum Side
{
    Legacy,
    New,
}

/// <summary>Where one write goes: the authoritative side first, then (optionally) the other.</summary>
public readonly record struct WritePlan(Side Authoritative, Side? Secondary)
{
    public bool Writes(Side side) => Authoritative == side || Secondary == side;
}

public static class StageRules
{
    public static WritePlan WritePlan(this Stage stage) => stage switch
    {
        Stage.Off => new(Side.Legacy, null),
        Stage.DualWrite or Stage.Shadow => new(Side.Legacy, Side.New),
        Stage.Live or Stage.Rampdown => new(Side.New, Side.Legacy),
        Stage.Complete => new(Side.New, null),
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, null),
    };

    public static Side ReadSide(this Stage stage) => stage <= Stage.Shadow ? Side.Legacy : Side.New;

    /// <summary>The stage an entity outside a partial rollout stays on.</summary>
    public static Stage Previous(this Stage stage) => stage == Stage.Off ? Stage.Off : stage - 1;

    /// <summary>The stage a migration moves to next; null at the last.</summary>
    public static Stage? Next(this Stage stage) => stage == Stage.Complete ? null : stage + 1;

    /// <summary>The stage every journey is at least on, with <paramref name="percent"/> % on <paramref name="stage"/>.</summary>
    public static Stage Lowest(Stage stage, int percent) => percent >= 100 ? stage : stage.Previous();

    /// <summary>The stage some journey is on, with <paramref name="percent"/> % on <paramref name="stage"/>.</summary>
    public static Stage Highest(Stage stage, int percent) => percent > 0 ? stage : stage.Previous();

    public static string Name(this Stage stage) => stage switch
    {
        Stage.Off => "off",
        Stage.DualWrite => "dual_write",
        Stage.Shadow => "shadow",
        Stage.Live => "live",
        Stage.Rampdown => "rampdown",
        Stage.Complete => "complete",
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, null),
    };

    public static readonly IReadOnlyList<string> Names = Enum.GetValues<Stage>().Select(Name).ToList();

    public static bool TryParse(string? text, out Stage stage)
    {
        foreach (var candidate in Enum.GetValues<Stage>())
        {
            if (string.Equals(candidate.Name(), text, StringComparison.Ordinal))
            {
                stage = candidate;
                return true;
            }
        }
        stage = default;
        return false;
    }

    public static string Name(this Side side) => side == Side.Legacy ? "legacy" : "new";
}
