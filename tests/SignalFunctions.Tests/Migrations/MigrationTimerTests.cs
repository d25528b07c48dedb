using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>The Backfill and Parity timer functions, run as the scheduler or the Functions host runs them.</summary>
public sealed class MigrationTimerTests
{
    [Fact]
    public async Task The_backfill_timer_copies_only_migrations_between_dual_write_and_complete()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(250);
        await using var services = TimerServices.For(db);

        var off = await MigrationTimers.BackfillAsync(services, CancellationToken.None);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        Assert.Contains("no migration", Assert.Single(off.Logs), StringComparison.Ordinal);

        await db.SetStageAsync("signal-events", "dual_write");
        var on = await MigrationTimers.BackfillAsync(services, CancellationToken.None);
        Assert.Equal(250L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        Assert.Contains(on.Logs, l => l.StartsWith("Backfill signal-events: complete, 250 rows this run", StringComparison.Ordinal));

        var parity = await MigrationTimers.ParityAsync(services, CancellationToken.None);
        Assert.Contains(parity.Logs, l => l.StartsWith("Parity signal-events: 250 rows, 0 missing, 0 extra, 0 different, clean", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_run_of_the_same_job_skips_while_the_first_holds_the_lock()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(10);
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using (var held = await JobLock.TryTakeAsync(holder, "backfill", "signal-events", CancellationToken.None))
        {
            Assert.NotNull(held);
            var second = await new Engine(db).BackfillAsync(SignalFunctions.Migrations.Declarations.SignalEventsMigration.Declaration);
            Assert.StartsWith("skipped", second.Outcome, StringComparison.Ordinal);
            Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        }
        var after = await new Engine(db).BackfillAsync(SignalFunctions.Migrations.Declarations.SignalEventsMigration.Declaration);
        Assert.Equal("complete", after.Outcome);
    }

    [Fact]
    public async Task The_parity_timer_skips_a_migration_that_is_cut_over_and_says_why()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        var m = SignalEventsMigration.Declaration;
        await engine.SeedLegacyEventsAsync(100);
        await using var services = TimerServices.For(db);
        await engine.MoveAsync(m, Stage.DualWrite);
        await engine.BackfillAsync(m);
        foreach (var stage in new[] { Stage.Shadow, Stage.Live, Stage.Rampdown, Stage.Complete })
        {
            await engine.AssertCleanAsync(m);
            await engine.RefreshViewsAsync();
            await engine.MoveAsync(m, stage);
        }
        await engine.Cutover.CutOverAsync(m, "test", CancellationToken.None);
        const string Reports = "SELECT count(*) FROM parity_reports WHERE migration = 'signal-events'";
        var reports = await db.ScalarAsync<long>(Reports);

        var parity = await MigrationTimers.ParityAsync(services, CancellationToken.None);

        Assert.Contains(parity.Logs, l => l.StartsWith("Parity signal-events: skipped, cut over", StringComparison.Ordinal));
        Assert.Equal(reports, await db.ScalarAsync<long>(Reports));
    }
}
