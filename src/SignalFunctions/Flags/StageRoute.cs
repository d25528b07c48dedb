using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using SignalFunctions.Stages;

namespace SignalFunctions.Flags;

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
