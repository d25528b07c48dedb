using System.Runtime.CompilerServices;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using SignalFunctions.Ingest;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>
/// Which stage a journey is on, as Microsoft.FeatureManagement assigns it (issue 4, section 1): the
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

/// <summary>
/// One snapshot's flags as FeatureManagement definitions, and a FeatureManager that reads only
/// them. Built once per snapshot (snapshots are immutable and swapped whole) and kept beside it.
/// </summary>
public sealed class SnapshotStages : IFeatureDefinitionProvider
{
    private static readonly ConditionalWeakTable<FlagSnapshot, SnapshotStages> BySnapshot = [];

    private readonly Dictionary<string, FeatureDefinition> _definitions;
    private readonly Dictionary<string, string> _names;

    private SnapshotStages(FlagSnapshot snapshot)
    {
        Snapshot = snapshot;
        _names = snapshot.Flags.Keys.ToDictionary(m => m, StageFlag.FeatureName, StringComparer.Ordinal);
        _definitions = snapshot.Flags.Values.ToDictionary(f => StageFlag.FeatureName(f.Migration), SnapshotFeatureDefinitionProvider.Definition, StringComparer.Ordinal);
        // No filters to register: a stage flag is "enabled" with AlwaysOn, which FeatureManagement
        // evaluates itself; the stage comes from the percentile allocation alone.
        Manager = new FeatureManager(this, new FeatureManagementOptions { IgnoreMissingFeatures = true });
    }

    public static SnapshotStages Of(FlagSnapshot snapshot) => BySnapshot.GetValue(snapshot, s => new SnapshotStages(s));

    public FlagSnapshot Snapshot { get; }

    public IVariantFeatureManager Manager { get; }

    public StageRoute For(string migration)
    {
        var flag = FlagsUnavailableException.FlagFor(Snapshot, migration);
        return new(flag, _names.GetValueOrDefault(migration) ?? StageFlag.FeatureName(migration), Manager);
    }

    public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) =>
        // FeatureManagement treats a null definition as "no such feature": off, no variant.
        Task.FromResult(_definitions.GetValueOrDefault(featureName)!);

    public async IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync()
    {
        foreach (var definition in _definitions.Values)
        {
            yield return definition;
        }
        await Task.CompletedTask;
    }
}

/// <summary>
/// One migration's flag within one snapshot. At 0 % or 100 % (or a stage with nothing before it)
/// every journey gets the same stage, so that is answered without asking FeatureManagement: the
/// hot path stays a field read outside a partial rollout.
/// </summary>
public readonly struct StageRoute(StageFlag flag, string featureName, IVariantFeatureManager manager)
{
    public StageFlag Flag { get; } = flag;

    /// <summary>The stage of every journey, or null while a partial rollout splits them.</summary>
    public Stage? Uniform => Flag.Lowest == Flag.Highest ? Flag.Lowest : null;

    public ValueTask<Stage> StageForAsync(Guid journeyKey, CancellationToken ct) =>
        Uniform is { } stage ? new(stage) : StageForAsync(journeyKey.ToString("D"), ct);

    public ValueTask<Stage> StageForAsync(string journeyKey, CancellationToken ct)
    {
        if (Uniform is { } stage)
        {
            return new(stage);
        }
        var variant = manager.GetVariantAsync(featureName, new TargetingContext { UserId = journeyKey }, ct);
        return variant.IsCompletedSuccessfully ? new(StageOf(variant.Result)) : AwaitedAsync(variant);
    }

    private async ValueTask<Stage> AwaitedAsync(ValueTask<Variant> variant) => StageOf(await variant);

    private Stage StageOf(Variant? variant) =>
        StageRules.TryParse(variant?.Name, out var stage)
            ? stage
            // Cannot happen for a flag built by StageFeatureFlag.Create: every range names a stage.
            : throw new InvalidOperationException($"FeatureManagement assigned {featureName} the variant '{variant?.Name}', which is no stage.");
}
