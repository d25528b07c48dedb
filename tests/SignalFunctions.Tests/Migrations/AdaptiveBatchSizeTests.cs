using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>The backfill's batch size follows a target batch duration, growing while batches are fast and shrinking while they are slow.</summary>
public sealed class AdaptiveBatchSizeTests
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    private static readonly MigrationOptions Sizing = new() { TargetBatchMilliseconds = 100, MinBatchSize = 100, MaxBatchSize = 10_000 };

    [Theory]
    [InlineData(1000, 100, 1000)] // on target: unchanged
    [InlineData(1000, 80, 1250)] // a little fast: a little larger
    [InlineData(1000, 125, 800)] // a little slow: a little smaller
    [InlineData(1000, 10, 2000)] // far too fast: at most doubled
    [InlineData(1000, 0, 2000)] // too fast to measure: doubled, no division by zero
    [InlineData(1000, 5000, 500)] // far too slow (a checkpoint, a vacuum): at most halved
    [InlineData(8000, 10, 10_000)] // never above MaxBatchSize
    [InlineData(150, 5000, 100)] // never below MinBatchSize
    public void The_next_batch_size_moves_toward_the_target_duration_within_bounds(int current, int tookMs, int expected) =>
        Assert.Equal(expected, Backfill.NextBatchSize(current, TimeSpan.FromMilliseconds(tookMs), Sizing));

    private static async Task<List<int>> BatchSizesAsync(TestDatabase db, MigrationOptions settings)
    {
        var reports = new List<BackfillProgress>();
        var run = await new Engine(db, settings).Backfill.RunAsync(SignalEvents, TimeSpan.FromMinutes(5), new SyncProgress(reports), CancellationToken.None);
        Assert.Equal("complete", run.Outcome);
        return [.. reports.Select(r => r.BatchSize)];
    }

    [Fact]
    public async Task Batches_far_below_the_target_duration_double_the_batch_size_each_time_up_to_the_maximum()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(20_000);

        // A minute per batch: every batch of a few thousand rows is far faster than that.
        var sizes = await BatchSizesAsync(db, new MigrationOptions { TargetBatchMilliseconds = 60_000, MinBatchSize = 100, MaxBatchSize = 8_000 });

        // From the starting size of 1000: 1000, 2000, 4000, 8000 (the maximum), then 8000 until done.
        Assert.Equal([2000, 4000, 8000, 8000, 8000], sizes.Take(5));
        Assert.Equal(20_000L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }

    [Fact]
    public async Task Batches_far_above_the_target_duration_halve_the_batch_size_each_time_down_to_the_minimum()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(2_000);
        // Every batch statement takes at least 50 ms, five times the 10 ms target.
        await db.ExecuteAsync("""
            CREATE FUNCTION test_slow_batch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$;
            CREATE TRIGGER test_slow_batch AFTER INSERT ON signal_events FOR EACH STATEMENT EXECUTE FUNCTION test_slow_batch();
            """);

        var sizes = await BatchSizesAsync(db, new MigrationOptions { TargetBatchMilliseconds = 10, MinBatchSize = 20, MaxBatchSize = 8_000 });

        Assert.Equal([500, 250, 125, 62, 31, 20, 20], sizes.Take(7));
        Assert.Equal(2_000L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        // The size is kept with the checkpoint: the next run starts where this one left off.
        Assert.Equal(20, await db.ScalarAsync<int>("SELECT batch_size FROM backfill_progress WHERE migration = 'signal-events'"));
    }
}
