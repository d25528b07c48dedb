using Npgsql;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// What an operator relies on when a job goes wrong: the timers isolate a failing migration and
/// fail the invocation, the last backfill error is kept until a batch commits, a busy legacy table
/// does not hold the capture's DDL forever.
/// </summary>
public sealed class EngineOperationsTests
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    // NOT VALID: the rows already there stay; every batch's INSERT now fails with 23514.
    private static Task RefuseNewEventsAsync(TestDatabase db) =>
        db.ExecuteAsync("ALTER TABLE signal_events ADD CONSTRAINT refuse_all CHECK (false) NOT VALID");

    [Fact]
    public async Task A_failed_batch_is_kept_as_the_last_error_until_a_batch_commits()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(120);
        await RefuseNewEventsAsync(db);

        var stalled = await engine.BackfillAsync(SignalEvents);
        var failed = await engine.BackfillProgressAsync(SignalEvents);

        Assert.True(stalled.Stalled, stalled.Outcome);
        Assert.Contains("(23514: ", stalled.Outcome, StringComparison.Ordinal);
        Assert.StartsWith("23514: ", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("refuse_all", failed.LastError, StringComparison.Ordinal);
        Assert.NotNull(failed.LastErrorAt);
        Assert.Equal(0, failed.RowsScanned);

        await db.ExecuteAsync("ALTER TABLE signal_events DROP CONSTRAINT refuse_all");
        var run = await engine.BackfillAsync(SignalEvents);
        var after = await engine.BackfillProgressAsync(SignalEvents);

        Assert.Equal("complete", run.Outcome);
        Assert.Null(after.LastError);
        Assert.Null(after.LastErrorAt);
        Assert.Equal(120, after.RowsCopied);
    }

    [Fact]
    public async Task The_backfill_timer_runs_the_other_migrations_when_one_fails_and_then_fails_the_invocation()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(30);
        await RefuseNewEventsAsync(db);
        await db.SetStageAsync("signal-events", "dual_write");
        await db.SetStageAsync("signal-metrics", "dual_write");
        await using var services = TimerServices.For(db);

        var outcome = await MigrationTimers.BackfillAsync(services, CancellationToken.None);

        Assert.True(outcome.Failed);
        var failure = Assert.Single(outcome.Logs, l => l.StartsWith("Backfill signal-events:", StringComparison.Ordinal));
        Assert.StartsWith("Backfill signal-events: stalled: the batch after key (start) fails (23514: ", failure, StringComparison.Ordinal);
        Assert.Contains("last error", failure, StringComparison.Ordinal);
        Assert.Matches(@"^Backfill failed for 1 of \d+ migrations: signal-events$", outcome.Logs[^1]);
        Assert.Contains(outcome.Logs, l => l.StartsWith("Backfill signal-metrics: complete, 0 rows this run", StringComparison.Ordinal));
        // The migration after the failing one ran too.
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM backfill_progress WHERE migration = 'signal-metrics' AND completed_at IS NOT NULL"));
    }

    [Fact]
    public async Task The_backfill_summary_line_has_the_rate_the_eta_and_the_last_error()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new Engine(db).SeedLegacyEventsAsync(40);
        await db.SetStageAsync("signal-events", "dual_write");
        await using var services = TimerServices.For(db);

        var done = await MigrationTimers.BackfillAsync(services, CancellationToken.None);
        var line = Assert.Single(done.Logs, l => l.StartsWith("Backfill signal-events:", StringComparison.Ordinal));
        Assert.Matches(@"^Backfill signal-events: complete, 40 rows this run, 40/40 in all, \d+ rows/s, ETA done$", line);

        var summary = MigrationTimers.SummaryLine(new BackfillRun(
            new BackfillProgress("signal-metrics", 10, 10, 1_000_010, 100, 5, false, "23514: refused", new DateTime(2026, 12, 4, 20, 0, 0, DateTimeKind.Utc)),
            10, TimeSpan.FromSeconds(2), TimeSpan.Zero, "budget reached"));
        Assert.Equal("Backfill signal-metrics: budget reached, 10 rows this run, 10/1000010 in all, 5 rows/s, ETA 2d 7h; " +
                     "last error 2026-12-04 20:00:00Z: 23514: refused", summary);
    }

    [Fact]
    public async Task The_parity_timer_runs_the_other_migrations_when_one_fails_and_then_fails_the_invocation()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(30);
        await engine.BackfillAsync(SignalEvents);
        await engine.BackfillAsync(SignalMetricsMigration.Declaration);
        await db.SetStageAsync("signal-events", "dual_write");
        await db.SetStageAsync("signal-metrics", "dual_write");
        await db.ExecuteAsync("ALTER TABLE blog_attribution_events RENAME TO blog_attribution_events_gone");
        await using var services = TimerServices.For(db);

        var outcome = await MigrationTimers.ParityAsync(services, CancellationToken.None);

        Assert.True(outcome.Failed);
        Assert.Contains(outcome.Logs, l => l.StartsWith("Parity signal-events failed: 42P01: ", StringComparison.Ordinal));
        Assert.Contains(outcome.Logs, l => l.StartsWith("Parity signal-metrics: 0 rows, 0 missing, 0 extra, 0 different, clean", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Repair_keeps_a_parity_fix_error_on_the_report_goes_on_with_the_others_and_fails_the_invocation()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        var (lost, report) = await engine.BackfillThenLoseAsync(30, lost: 1);
        var gone = Assert.Single(lost);
        // The fix's upsert reads the legacy table, which is not there now.
        await db.ExecuteAsync("ALTER TABLE blog_attribution_events RENAME TO blog_attribution_events_gone");
        await using var services = TimerServices.For(db);

        var outcome = await MigrationTimers.RepairAsync(services, CancellationToken.None);

        Assert.True(outcome.Failed);
        Assert.Contains(outcome.Logs, l => l.StartsWith("Repair signal-events: 0 repaired, 0 failed, 0 remaining, 0 parity keys fixed; parity keys not fixed: 42P01: ", StringComparison.Ordinal));
        Assert.Contains(outcome.Logs, l => l.StartsWith("Repair click-events: 0 repaired", StringComparison.Ordinal));
        Assert.Equal("Repair failed for 1 of 9 migrations: signal-events", outcome.Logs[^1]);
        var kept = await db.QueryAsync<(string? Error, DateTime? RepairedAt)>(
            "SELECT repair_error, repaired_at FROM parity_reports WHERE id = @Id", report);
        Assert.StartsWith("42P01: ", kept.Single().Error, StringComparison.Ordinal);
        Assert.Null(kept.Single().RepairedAt);

        // The report stays unrepaired: the next run, with the table back, fixes the key and clears the error.
        await db.ExecuteAsync("ALTER TABLE blog_attribution_events_gone RENAME TO blog_attribution_events");
        var retry = await engine.RepairAsync(SignalEvents);
        Assert.Equal(1, retry.KeysFixed);
        Assert.Null(retry.KeysError);
        Assert.Null(await db.ScalarAsync<string?>("SELECT repair_error FROM parity_reports WHERE id = @Id", report));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @gone", new { gone }));
    }

    [Fact]
    public async Task A_busy_legacy_table_times_the_capture_ddl_out_and_the_next_tick_installs_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.SetStageAsync("signal-metrics", "dual_write");
        await db.SetStageAsync("signal-events", "dual_write");
        await using var services = TimerServices.For(db);
        await using (var holder = await db.DataSource.OpenConnectionAsync())
        {
            await using var tx = await holder.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand("LOCK TABLE blog_article_metrics IN ACCESS EXCLUSIVE MODE", holder, tx))
            {
                await command.ExecuteNonQueryAsync();
            }

            var busy = await MigrationTimers.BackfillAsync(services, CancellationToken.None);

            Assert.False(busy.Failed);
            Assert.Contains(busy.Logs, l => l.StartsWith("Backfill signal-metrics: capture trigger on blog_article_metrics not installed", StringComparison.Ordinal)
                                             && l.Contains("next Backfill tick retries", StringComparison.Ordinal));
            Assert.DoesNotContain(busy.Logs, l => l.StartsWith("Backfill signal-metrics: complete", StringComparison.Ordinal));
            Assert.Contains(busy.Logs, l => l.StartsWith("Backfill signal-events: complete", StringComparison.Ordinal));
        }

        var next = await MigrationTimers.BackfillAsync(services, CancellationToken.None);

        Assert.False(next.Failed);
        Assert.Contains(next.Logs, l => l.StartsWith("Backfill signal-metrics: complete", StringComparison.Ordinal));
        Assert.True(await db.ScalarAsync<long>(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'blog_article_metrics'::regclass AND tgname LIKE '%capture%'") > 0);
    }

    [Theory]
    [InlineData(3723, "01:02:03")]
    [InlineData(86_399, "23:59:59")]
    [InlineData(86_400, "1d 0h")]
    [InlineData(273_600, "3d 4h")]
    public void An_eta_over_a_day_is_shown_in_days_and_hours(double seconds, string shown) =>
        Assert.Equal(shown, EtaText.Of(TimeSpan.FromSeconds(seconds)));
}
