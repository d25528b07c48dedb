using SignalFunctions.Stages;

namespace SignalFunctions.Migrations;

/// <summary>
/// A stage change, or why it was refused: the gates that failed, or (<see cref="Conflict"/>) a
/// change made by someone else in between, which --force does not override.
/// </summary>
public sealed record StageChangeResult(StageChange? Change, IReadOnlyList<string> FailedGates, bool Forced, string? Conflict = null)
{
    public bool Refused => Change is null;
}
