using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// Microsoft.FeatureManagement over the loaded snapshot (our IFeatureDefinitionProvider, registered
/// as the app registers it) names, for every journey, the stage ingest writes by (StageFlag.StageFor).
/// </summary>
public sealed class FeatureDefinitionProviderTests
{
    public static TheoryData<Stage, int> Rollouts => new()
    {
        { Stage.DualWrite, 10 },
        { Stage.Shadow, 50 },
        { Stage.Live, 0 },
        { Stage.Complete, 100 },
        { Stage.Off, 100 },
    };

    [Theory]
    [MemberData(nameof(Rollouts))]
    public async Task FeatureManagement_over_the_snapshot_agrees_with_ingest_for_every_journey(Stage stage, int percent)
    {
        var state = new FlagState(TimeProvider.System);
        state.Apply(new FlagSnapshot(new Dictionary<string, StageFlag>
        {
            [KnownMigrations.SignalEvents] = new(KnownMigrations.SignalEvents, stage, percent, 1, DateTimeOffset.UtcNow),
        }, "test", DateTimeOffset.UtcNow));
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddLogging()
            .AddSingleton(state);
        services.AddFlagRefresh(new ConfigurationBuilder().Build());
        await using var provider = services.BuildServiceProvider();
        var manager = provider.GetRequiredService<IVariantFeatureManager>();
        var flag = state.Current![KnownMigrations.SignalEvents];

        var disagreements = new List<string>();
        for (var i = 0; i < 2000; i++)
        {
            var journey = Guid.NewGuid().ToString();
            var variant = await manager.GetVariantAsync(StageFlag.FeatureName(KnownMigrations.SignalEvents), new TargetingContext { UserId = journey }, CancellationToken.None);
            if (variant?.Name != flag.StageFor(journey).Name())
            {
                disagreements.Add($"{journey}: FeatureManagement {variant?.Name}, ingest {flag.StageFor(journey).Name()}");
            }
        }

        Assert.Empty(disagreements);
        Assert.Contains(StageFlag.FeatureName(KnownMigrations.SignalEvents), await manager.GetFeatureNamesAsync().ToListAsync());
    }
}
