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
