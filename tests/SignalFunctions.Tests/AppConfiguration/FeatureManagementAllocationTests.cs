using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>
/// The flags we write, evaluated by the real Microsoft.FeatureManagement (4.x, the Microsoft
/// feature flag schema App Configuration stores) for many journey keys, must give every key the
/// stage <see cref="StageFlag.StageFor(string)"/> gives it. FeatureManagement buckets a percentile
/// allocation by SHA-256 of "{user id}\n{seed}", and with no seed by "{user id}\nallocation\n{flag id}";
/// Microsoft.Targeting and StageFlag.Bucket hash "{user id}\n{flag id}". So the flags carry seed =
/// flag id, and the last test shows what happens without it.
/// </summary>
public sealed class FeatureManagementAllocationTests
{
    private const string Migration = "signal-events";

    public static TheoryData<Stage, int> Rollouts => new()
    {
        { Stage.DualWrite, 1 },
        { Stage.Shadow, 50 },
        { Stage.Live, 30 },
        { Stage.Complete, 99 },
        { Stage.Rampdown, 100 },
        { Stage.Live, 0 },
        { Stage.Off, 100 },
    };

    [Theory]
    [MemberData(nameof(Rollouts))]
    public async Task FeatureManagement_puts_every_journey_on_the_stage_StageFlag_gives_it(Stage stage, int percent)
    {
        var flag = StageFeatureFlag.Create(Migration, stage, percent);
        var ours = new StageFlag(Migration, stage, percent, 1, DateTimeOffset.UtcNow);
        var evaluate = Evaluator(flag);

        var disagreements = new List<string>();
        var onNewStage = 0;
        foreach (var key in JourneyKeys(3000))
        {
            var theirs = await evaluate(key);
            var expected = ours.StageFor(key).Name();
            if (theirs != expected)
            {
                disagreements.Add($"{key}: FeatureManagement {theirs}, StageFlag {expected}");
            }
            onNewStage += theirs == stage.Name() ? 1 : 0;
        }

        Assert.Empty(disagreements);
        Assert.Equal((stage, percent), StageFeatureFlag.StageOf(FeatureFlagKeys.Key(flag.Id), flag));
        if (percent is > 0 and < 100 && stage != Stage.Off)
        {
            Assert.InRange(onNewStage, 1, 2999); // the sample really straddles the boundary
        }
    }

    [Fact]
    public async Task A_disabled_flag_gives_everyone_default_when_disabled()
    {
        var flag = StageFeatureFlag.Create(Migration, Stage.Live, 40);
        flag.Enabled = false;
        var evaluate = Evaluator(flag);

        foreach (var key in JourneyKeys(200))
        {
            Assert.Equal("shadow", await evaluate(key));
        }
        Assert.Equal((Stage.Shadow, 100), StageFeatureFlag.StageOf(FeatureFlagKeys.Key(flag.Id), flag));
    }

    [Fact]
    public async Task Without_a_seed_FeatureManagement_hashes_allocation_and_the_flag_id_so_journeys_would_move()
    {
        var flag = StageFeatureFlag.Create(Migration, Stage.Live, 30);
        flag.Allocation!.Seed = null; // what a flag created without one (e.g. in the portal) gets
        var evaluate = Evaluator(flag);
        var ours = new StageFlag(Migration, Stage.Live, 30, 1, DateTimeOffset.UtcNow);

        var disagreements = 0;
        foreach (var key in JourneyKeys(3000))
        {
            var theirs = await evaluate(key);
            var unseeded = Percentile($"{key}\nallocation\n{flag.Id}") < 30 ? "live" : "shadow";
            Assert.Equal(unseeded, theirs);
            disagreements += theirs == ours.StageFor(key).Name() ? 0 : 1;
        }

        // Roughly 42 % of journeys (0.3 × 0.7 × 2) would change stage: our parser refuses such a flag.
        Assert.InRange(disagreements, 900, 1600);
        Assert.Throws<FeatureFlagFormatException>(() => StageFeatureFlag.StageOf(FeatureFlagKeys.Key(flag.Id), flag));
    }

    /// <summary>The Microsoft.Targeting / StageFlag.Bucket formula: first four bytes of SHA-256, little-endian, over uint.MaxValue.</summary>
    private static double Percentile(string contextId) =>
        BinaryPrimitives.ReadUInt32LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(contextId))) / (double)uint.MaxValue * 100;

    private static IEnumerable<string> JourneyKeys(int count) =>
        Enumerable.Range(0, count).Select(i => i % 2 == 0 ? Guid.NewGuid().ToString() : $"gclid-{i}");

    /// <summary>Our flag JSON, served to FeatureManagement through configuration in its own feature_flags schema.</summary>
    internal static Func<string, Task<string?>> Evaluator(FeatureFlag flag)
    {
        var json = $$$"""{"feature_management":{"feature_flags":[{{{FeatureFlagKeys.Serialize(flag)}}}]}}""";
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddFeatureManagement();
        var manager = services.BuildServiceProvider().GetRequiredService<IVariantFeatureManager>();
        return async key => (await manager.GetVariantAsync(flag.Id, new TargetingContext { UserId = key }, CancellationToken.None))?.Name;
    }
}
