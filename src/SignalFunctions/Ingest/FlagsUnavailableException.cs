using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Ingest;

/// <summary>No stage flags have been loaded yet: writing would mean guessing a stage.</summary>
public sealed class FlagsUnavailableException(string message) : Exception(message)
{
    /// <summary>The migration's flag in the current snapshot, or this exception (answered 503 + Retry-After).</summary>
    public static StageFlag FlagFor(FlagState flags, string migration) => FlagFor(SnapshotOf(flags), migration);

    /// <summary>The snapshot applied now, or this exception before the first load.</summary>
    public static FlagSnapshot SnapshotOf(FlagState flags) =>
        flags.Current ?? throw new FlagsUnavailableException(
            $"Stage flags are not loaded yet, so the write side is unknown.{(flags.LastError is { } error ? $" {error}" : "")}");

    /// <summary>The migration's flag in <paramref name="snapshot"/>, or this exception.</summary>
    public static StageFlag FlagFor(FlagSnapshot snapshot, string migration) =>
        snapshot.Flags.TryGetValue(migration, out var flag)
            ? flag
            // E.g. App Configuration has no valid flag for it yet: do not guess a stage: a wrong one writes the wrong side.
            : throw new FlagsUnavailableException($"There is no stage flag for {migration} in {snapshot.Source}, so the write side is unknown.");
}
