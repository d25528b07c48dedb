namespace SignalFunctions.Stages;

public enum Side
{
    Legacy,
    New,
}
