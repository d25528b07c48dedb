using Dapper;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>The Backfill, Parity and Repair timer functions, run as the scheduler or the Functions host runs them.</summary>
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
        await engine.WalkToCompleteAsync(m);
        await engine.Cutover.CutOverAsync(m, "test", CancellationToken.None);
        const string Reports = "SELECT count(*) FROM parity_reports WHERE migration = 'signal-events'";
        var reports = await db.ScalarAsync<long>(Reports);

        var parity = await MigrationTimers.ParityAsync(services, CancellationToken.None);

        Assert.Contains(parity.Logs, l => l.StartsWith("Parity signal-events: skipped, cut over", StringComparison.Ordinal));
        Assert.Equal(reports, await db.ScalarAsync<long>(Reports));
    }

    [Fact]
    public async Task The_repair_timer_shares_one_budget_so_a_migration_that_spends_it_leaves_the_rest_for_the_next_run()
    {
        await using var db = await TestDatabase.CreateAsync();
        var (entry, eventId) = await RepairEntries.QueueNewSideEventAsync(db);
        await using var services = TimerServices.For(db, new Dictionary<string, string?> { ["Migrations:BudgetSeconds"] = "5" });
        // signal-events comes first; its replay waits behind this lock for longer than the whole budget.
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var blocking = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("LOCK TABLE signal_events IN SHARE MODE", transaction: blocking);

        var run = MigrationTimers.RepairAsync(services, CancellationToken.None);
        // Its deadline was set as it started, before returning its task.
        var budgetOver = DateTime.UtcNow.AddSeconds(5);
        // The state, not a duration: the replay is queued on the lock...
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await db.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0)
        {
            Assert.False(run.IsCompleted, $"the replay did not wait for the lock: {run.Status}");
            Assert.True(DateTime.UtcNow < deadline, "the replay never queued on the lock");
            await Task.Delay(20);
        }
        // ... and is held there until the budget (a time, so this waits for the clock) has run out.
        while (DateTime.UtcNow <= budgetOver)
        {
            await Task.Delay(50);
        }
        await blocking.CommitAsync();
        var outcome = await run;

        Assert.False(outcome.Failed);
        Assert.Equal(KnownMigrations.Names.Count, outcome.Logs.Count);
        Assert.Equal("Repair signal-events: 1 repaired, 0 failed, 0 remaining, 0 parity keys fixed", outcome.Logs[0]);
        Assert.Equal(KnownMigrations.Names.Skip(1).Select(n => $"Repair {n}: no budget left this run"), outcome.Logs.Skip(1));
        Assert.NotNull((await RepairEntries.ReadAsync(db, entry)).ResolvedAt);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @eventId", new { eventId }));
    }
}
