using Microsoft.FeatureManagement.FeatureFilters;
using SignalFunctions.Flags;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// Microsoft.FeatureManagement over one snapshot (<see cref="SnapshotStages"/>, the definitions and
/// manager ingest routes with) names, for every journey, the stage of the flag's own bucketing
/// (StageFlag.StageFor).
/// </summary>
public sealed class SnapshotStagesTests
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
    public async Task FeatureManagement_over_the_snapshot_agrees_with_the_flag_bucket_for_every_journey(Stage stage, int percent)
    {
        var snapshot = new FlagSnapshot(new Dictionary<string, StageFlag>
        {
            [KnownMigrations.SignalEvents] = new(KnownMigrations.SignalEvents, stage, percent, 1, DateTimeOffset.UtcNow),
        }, "test", DateTimeOffset.UtcNow);
        var manager = SnapshotStages.Of(snapshot).Manager;
        var flag = snapshot[KnownMigrations.SignalEvents];

        var disagreements = new List<string>();
        for (var i = 0; i < 2000; i++)
        {
            var journey = Guid.NewGuid().ToString();
            var variant = await manager.GetVariantAsync(StageFlag.FeatureName(KnownMigrations.SignalEvents), new TargetingContext { UserId = journey }, CancellationToken.None);
            if (variant?.Name != flag.StageFor(journey).Name())
            {
                disagreements.Add($"{journey}: FeatureManagement {variant?.Name}, bucket {flag.StageFor(journey).Name()}");
            }
        }

        Assert.Empty(disagreements);
        Assert.Contains(StageFlag.FeatureName(KnownMigrations.SignalEvents), await manager.GetFeatureNamesAsync().ToListAsync());
    }
}
