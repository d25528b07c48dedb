using System.Runtime.CompilerServices;
using Microsoft.FeatureManagement;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Ingest;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

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
        _definitions = snapshot.Flags.Values.ToDictionary(f => StageFlag.FeatureName(f.Migration), Definition, StringComparer.Ordinal);
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

    /// <summary>The flag exactly as App Configuration stores it (<see cref="StageFeatureFlag.Create"/>), as a definition.</summary>
    private static FeatureDefinition Definition(StageFlag stageFlag)
    {
        var flag = StageFeatureFlag.Create(stageFlag.Migration, stageFlag.Stage, stageFlag.Percent);
        var allocation = flag.Allocation!;
        return new FeatureDefinition
        {
            Name = flag.Id,
            Status = FeatureStatus.Conditional,
            RequirementType = RequirementType.Any,
            // "enabled" with no client filters: FeatureManagement's AlwaysOn.
            EnabledFor = flag.Enabled ? [new FeatureFilterConfiguration { Name = "AlwaysOn" }] : [],
            Variants = flag.Variants!.Select(v => new VariantDefinition { Name = v.Name }).ToList(),
            Allocation = new Allocation
            {
                DefaultWhenEnabled = allocation.DefaultWhenEnabled,
                DefaultWhenDisabled = allocation.DefaultWhenDisabled,
                Seed = allocation.Seed,
                Percentile = allocation.Percentile!
                    .Select(p => new Microsoft.FeatureManagement.PercentileAllocation { Variant = p.Variant, From = p.From, To = p.To })
                    .ToList(),
            },
        };
    }
}
