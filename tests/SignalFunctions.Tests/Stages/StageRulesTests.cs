using SignalFunctions.Stages;

namespace SignalFunctions.Tests.Stages;

public sealed class StageRulesTests
{
    [Theory]
    [InlineData(Stage.Off, Side.Legacy, null, Side.Legacy)]
    [InlineData(Stage.DualWrite, Side.Legacy, Side.New, Side.Legacy)]
    [InlineData(Stage.Shadow, Side.Legacy, Side.New, Side.Legacy)]
    [InlineData(Stage.Live, Side.New, Side.Legacy, Side.New)]
    [InlineData(Stage.Rampdown, Side.New, Side.Legacy, Side.New)]
    [InlineData(Stage.Complete, Side.New, null, Side.New)]
    public void Each_stage_writes_and_reads_the_sides_of_the_architecture_table(Stage stage, Side authoritative, Side? secondary, Side reads)
    {
        Assert.Equal(new WritePlan(authoritative, secondary), stage.WritePlan());
        Assert.Equal(reads, stage.ReadSide());
    }

    [Fact]
    public void Every_stage_before_complete_still_writes_the_legacy_side_so_stepping_back_is_lossless()
    {
        foreach (var stage in Enum.GetValues<Stage>().Where(s => s != Stage.Complete))
        {
            Assert.True(stage.WritePlan().Writes(Side.Legacy), stage.Name());
        }
    }

    [Fact]
    public void Stage_names_round_trip_and_unknown_names_are_refused()
    {
        foreach (var stage in Enum.GetValues<Stage>())
        {
            Assert.True(StageRules.TryParse(stage.Name(), out var parsed));
            Assert.Equal(stage, parsed);
        }
        Assert.False(StageRules.TryParse("Dual_Write", out _));
        Assert.False(StageRules.TryParse("paused", out _));
        Assert.Equal(["off", "dual_write", "shadow", "live", "rampdown", "complete"], StageRules.Names);
    }

    [Fact]
    public void Entities_outside_a_partial_rollout_stay_on_the_previous_stage()
    {
        var flag = new StageFlag("signal-events", Stage.Live, 30, 1, DateTimeOffset.UtcNow);
        var keys = Enumerable.Range(0, 2000).Select(_ => Guid.NewGuid()).ToList();
        var stages = keys.Select(flag.StageFor).ToList();

        Assert.All(stages, s => Assert.Contains(s, new[] { Stage.Live, Stage.Shadow }));
        var share = stages.Count(s => s == Stage.Live) / (double)keys.Count;
        Assert.InRange(share, 0.25, 0.35);
        // Sticky: asking again gives the same answer for every journey.
        Assert.Equal(stages, keys.Select(flag.StageFor).ToList());
    }

    [Fact]
    public void Zero_and_hundred_percent_put_everyone_on_one_stage()
    {
        var none = new StageFlag("click-events", Stage.DualWrite, 0, 1, DateTimeOffset.UtcNow);
        var all = none with { Percent = 100 };
        for (var i = 0; i < 500; i++)
        {
            var key = $"click-{i}";
            Assert.Equal(Stage.Off, none.StageFor(key));
            Assert.Equal(Stage.DualWrite, all.StageFor(key));
        }
    }
}
