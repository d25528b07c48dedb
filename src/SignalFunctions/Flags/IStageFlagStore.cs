using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>
/// Where stage flags live: the one seam between the app and its flag source. The embedded store
/// is the default; App Configuration plugs in behind the same interface.
/// </summary>
public interface IStageFlagStore
{
    Task<FlagSnapshot> LoadAsync(CancellationToken ct);

    /// <summary>
    /// Writes the flag only if it is still <paramref name="expected"/> (null: only if there is none
    /// yet); otherwise throws <see cref="StageFlagConflictException"/> and writes nothing.
    /// </summary>
    Task<StageChange> SetStageAsync(string migration, Stage stage, int percent, string actor, StageFlag? expected, CancellationToken ct);
}
