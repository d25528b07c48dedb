using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.Stages;

/// <summary>
/// Our bucketing must put every journey where Microsoft.Targeting puts it, so that moving a flag
/// to App Configuration's Feature manager keeps each journey on the stage it was on.
/// </summary>
public sealed class RolloutBucketTests
{
    [Theory]
    [InlineData("signal-events", 1)]
    [InlineData("signal-events", 10)]
    [InlineData("click-events", 50)]
    [InlineData("click-events", 99)]
    public async Task Bucketing_agrees_with_the_FeatureManagement_targeting_filter(string migration, int percent)
    {
        var filter = new ContextualTargetingFilter(Options.Create(new TargetingEvaluationOptions()), NullLoggerFactory.Instance);
        var context = new FeatureFilterEvaluationContext
        {
            FeatureName = StageFlag.FeatureName(migration),
            Settings = new TargetingFilterSettings { Audience = new Audience { DefaultRolloutPercentage = percent } },
        };
        var flag = new StageFlag(migration, Stage.DualWrite, percent, 1, DateTimeOffset.UtcNow);

        var disagreements = 0;
        var targeted = 0;
        for (var i = 0; i < 3000; i++)
        {
            var key = i % 2 == 0 ? Guid.NewGuid().ToString() : $"gclid-{i}";
            var expected = await filter.EvaluateAsync(context, new TargetingContext { UserId = key });
            var ours = flag.StageFor(key) == Stage.DualWrite;
            disagreements += expected == ours ? 0 : 1;
            targeted += expected ? 1 : 0;
        }

        Assert.Equal(0, disagreements);
        Assert.InRange(targeted, 1, 2999); // the sample really straddles the boundary
    }
}
