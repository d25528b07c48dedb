namespace SignalFunctions.Flags;

/// <summary>The flag changed between the read a stage change was based on and its write.</summary>
public sealed class StageFlagConflictException(string migration, string detail)
    : InvalidOperationException($"{migration}: the stage flag changed since it was read ({detail}); nothing was written")
{
    public string Migration { get; } = migration;
}
