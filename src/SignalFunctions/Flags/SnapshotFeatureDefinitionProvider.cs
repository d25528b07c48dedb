using Microsoft.FeatureManagement;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

/// <summary>
/// Microsoft.FeatureManagement's view of the stage flags (issue 4, section 1): definitions served
/// from the snapshot this instance obeys (<see cref="FlagState"/>), whatever store it came from, so
/// the app's IVariantFeatureManager.GetVariantAsync("SignalFunctions.{migration}", journey key)
/// names the journey's stage. Ingest asks the same definitions through <see cref="StageRouter"/>,
/// pinned to the one snapshot its request started with.
/// </summary>
public sealed class SnapshotFeatureDefinitionProvider(FlagState state) : IFeatureDefinitionProvider
{
    public Task<FeatureDefinition> GetFeatureDefinitionAsync(string featureName) =>
        state.Current is { } snapshot
            ? SnapshotStages.Of(snapshot).GetFeatureDefinitionAsync(featureName)
            // FeatureManagement treats a null definition as "no such feature": off, no variant.
            : Task.FromResult<FeatureDefinition>(null!);

    public IAsyncEnumerable<FeatureDefinition> GetAllFeatureDefinitionsAsync() =>
        state.Current is { } snapshot ? SnapshotStages.Of(snapshot).GetAllFeatureDefinitionsAsync() : AsyncEnumerable.Empty<FeatureDefinition>();

    /// <summary>The flag exactly as App Configuration stores it (<see cref="StageFeatureFlag.Create"/>), as a definition.</summary>
    public static FeatureDefinition Definition(StageFlag stageFlag)
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
