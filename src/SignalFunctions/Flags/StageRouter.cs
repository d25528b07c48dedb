using SignalFunctions.Ingest;

namespace SignalFunctions.Flags;

/// <summary>
/// Which stage a journey is on, as Microsoft.FeatureManagement assigns it (so it agrees with the portal's targeting): the
/// flag's variant, with the journey key as the targeting user. A request takes one
/// <see cref="SnapshotStages"/> at its start and routes every event with it, so it sees one
/// snapshot from start to end even when a refresh applies a new one meanwhile.
/// </summary>
public sealed class StageRouter(FlagState flags)
{
    /// <summary>The stages of the snapshot applied now, or <see cref="FlagsUnavailableException"/> (503) before the first load.</summary>
    public SnapshotStages Current() => SnapshotStages.Of(FlagsUnavailableException.SnapshotOf(flags));

    /// <summary>The migration's route in the snapshot applied now (one snapshot for the whole request).</summary>
    public StageRoute For(string migration) => Current().For(migration);
}
