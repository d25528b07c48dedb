using SignalFunctions.Ingest;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>signal-events backfill and parity on real legacy rows.</summary>
public sealed class BackfillAndParityTests
{
    private static readonly DataMigration SignalEvents = SignalEventsMigration.Declaration;

    [Fact]
    public async Task Backfill_copies_every_legacy_row_in_keyset_batches_and_parity_is_then_clean()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db, new MigrationOptions { ParityFenceSeconds = 0, MinBatchSize = 100, MaxBatchSize = 100 });
        await engine.SeedLegacyEventsAsync(1234);

        var before = await engine.ParityAsync(SignalEvents);
        var run = await engine.BackfillAsync(SignalEvents);
        var after = await engine.ParityAsync(SignalEvents);

        Assert.Equal(1234, before.MissingCount);
        Assert.False(before.Clean);
        Assert.Equal("complete", run.Outcome);
        Assert.Equal(1234, run.Progress.RowsCopied);
        Assert.True(run.Progress.Completed);
        Assert.Equal(1234L, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
        // 13 batches of at most 100 rows, then an empty one that finds nothing past the checkpoint.
        Assert.Equal(14L, await db.ScalarAsync<long>("SELECT batches FROM backfill_progress WHERE migration = 'signal-events'"));
        Assert.True(after.Clean, $"missing {after.MissingCount}, extra {after.ExtraCount}, different {after.DifferentCount}");
        Assert.Equal(1234, after.RowsCompared);
    }

    [Fact]
    public async Task Backfilled_journeys_are_the_ones_ingest_derives_from_the_session()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(50);
        await engine.BackfillAsync(SignalEvents);

        var rows = await db.QueryAsync<(string? Session, Guid Id, Guid SignalId)>(
            "SELECT session_id, id, signal_id FROM signal_events");
        Assert.All(rows, r => Assert.Equal(r.Session is null ? r.Id : JourneyKeys.FromSession(r.Session), r.SignalId));
    }

    [Fact]
    public async Task Parity_reports_exactly_the_injected_missing_extra_and_changed_keys()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(3000);
        await engine.BackfillAsync(SignalEvents);
        var ids = (await db.QueryAsync<Guid>("SELECT id FROM signal_events ORDER BY id LIMIT 9")).ToList();
        await db.ExecuteAsync("DELETE FROM signal_events WHERE id = ANY(@gone)", new { gone = ids.Take(3).ToArray() });
        await db.ExecuteAsync("DELETE FROM blog_attribution_events WHERE id = ANY(@gone)", new { gone = ids.Skip(3).Take(3).ToArray() });
        await db.ExecuteAsync("UPDATE signal_events SET event_type = 'convert', metadata = metadata || '{\"x\":1}' WHERE id = ANY(@changed)", new { changed = ids.Skip(6).ToArray() });
        // Rows with no legacy home are not extras.
        await db.ExecuteAsync("""
            INSERT INTO signal_events (id, signal_id, content_id, content_type, target_type, target_id, event_type, source_component)
            VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'podcast', 'tutor', gen_random_uuid(), 'click', 'tutor_embed')
            """);

        var report = await engine.ParityAsync(SignalEvents);

        Assert.False(report.Clean);
        Assert.Equal(ids.Take(3).Select(i => i.ToString()).Order(), report.MissingKeys.Order());
        Assert.Equal(ids.Skip(3).Take(3).Select(i => i.ToString()).Order(), report.ExtraKeys.Order());
        Assert.Equal(ids.Skip(6).Select(i => i.ToString()).Order(), report.DifferentKeys.Order());
    }

    [Fact]
    public async Task Parity_that_drills_into_finer_buckets_first_reports_the_same_keys()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        await engine.SeedLegacyEventsAsync(3000);
        await engine.BackfillAsync(SignalEvents);
        var ids = (await db.QueryAsync<Guid>("SELECT id FROM signal_events ORDER BY id LIMIT 4")).ToList();
        await db.ExecuteAsync("DELETE FROM signal_events WHERE id = ANY(@gone)", new { gone = ids.Take(2).ToArray() });
        await db.ExecuteAsync("UPDATE blog_attribution_events SET event_type = 'convert', metadata = metadata || '{\"x\":1}' WHERE id = ANY(@changed)", new { changed = ids.Skip(2).ToArray() });

        var direct = await engine.ParityAsync(SignalEvents);
        // No row count is small enough to compare at once: every differing bucket is split first.
        var drilled = await new Engine(db, new MigrationOptions { ParityFenceSeconds = 0, ParityDirectRows = 0 }).ParityAsync(SignalEvents);

        Assert.True(drilled.RangesChecked > direct.RangesChecked, $"{drilled.RangesChecked} ranges drilled, {direct.RangesChecked} direct");
        foreach (var report in new[] { direct, drilled })
        {
            Assert.Equal(ids.Take(2).Select(i => i.ToString()).Order(), report.MissingKeys.Order());
            Assert.Equal(ids.Skip(2).Select(i => i.ToString()).Order(), report.DifferentKeys.Order());
            Assert.Empty(report.ExtraKeys);
        }
    }

    [Fact]
    public async Task A_backfill_stopped_by_its_budget_resumes_from_its_checkpoint()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db, new MigrationOptions { MinBatchSize = 50, MaxBatchSize = 50 });
        await engine.SeedLegacyEventsAsync(500);

        var first = await engine.Backfill.RunAsync(SignalEvents, TimeSpan.Zero, null, CancellationToken.None);
        Assert.Equal("budget reached", first.Outcome);
        Assert.Equal(0, first.RowsThisRun);

        var progress = new List<BackfillProgress>();
        var second = await engine.Backfill.RunAsync(SignalEvents, TimeSpan.FromMinutes(1), new SyncProgress(progress), CancellationToken.None);
        Assert.Equal("complete", second.Outcome);
        Assert.Equal(500, second.Progress.RowsScanned);
        Assert.Equal(500, second.Progress.RowsTotal);
        Assert.Equal(11, progress.Count);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i * 50L).Append(500), progress.Select(p => p.RowsScanned));
    }

    [Fact]
    public async Task A_backfill_pauses_while_sessions_wait_on_locks_and_resumes_when_they_stop()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db, new MigrationOptions { MaxLockWaits = 0 });
        await engine.SeedLegacyEventsAsync(300);
        // One session holds a row lock, another waits for it: one lock wait, over the limit of 0.
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM stage_flags WHERE migration = 'click-events' FOR UPDATE", holder, hold))
        {
            await lockRow.ExecuteNonQueryAsync();
        }
        var waiter = db.ExecuteAsync("UPDATE stage_flags SET percent = percent WHERE migration = 'click-events'");

        var reports = new List<BackfillProgress>();
        var paused = await engine.Backfill.RunAsync(SignalEvents, TimeSpan.FromSeconds(2.5), new SyncProgress(reports), CancellationToken.None);
        await hold.RollbackAsync();
        await waiter;
        var resumed = await engine.BackfillAsync(SignalEvents);

        Assert.Equal("budget reached", paused.Outcome);
        Assert.Equal(0, paused.RowsThisRun);
        Assert.True(paused.Paused >= TimeSpan.FromSeconds(2), paused.Paused.ToString());
        // The live progress line says why it is waiting.
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.Equal("1 sessions waiting on locks (limit 0)", r.PausedBy));
        Assert.Equal("complete", resumed.Outcome);
        Assert.Equal(300, resumed.RowsThisRun);
    }

    [Fact]
    public async Task Rows_added_ahead_of_the_checkpoint_raise_the_total_instead_of_showing_100_percent_with_no_end()
    {
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db, new MigrationOptions { MinBatchSize = 100, MaxBatchSize = 100 });
        await engine.SeedLegacyEventsAsync(1000);
        var reports = new List<BackfillProgress>();
        // Ingest at work: 1,000 more rows when the backfill is halfway, spread over the whole key space.
        var progress = new SyncProgress(reports, r =>
        {
            if (r.RowsScanned == 500)
            {
                engine.SeedLegacyEventsAsync(1000).GetAwaiter().GetResult();
            }
        });

        var run = await engine.Backfill.RunAsync(SignalEvents, TimeSpan.FromMinutes(1), progress, CancellationToken.None);

        Assert.Equal("complete", run.Outcome);
        Assert.Equal(1000, reports[0].RowsTotal);
        var ahead = run.Progress.RowsScanned - 1000;
        Assert.InRange(ahead, 300, 700);
        // Recounted once the first 1,000 were scanned: from then on the total is what is left past the checkpoint.
        Assert.Equal(run.Progress.RowsScanned, run.Progress.RowsTotal);
        Assert.All(reports, r => Assert.True(r.RowsScanned <= r.RowsTotal, $"{r.RowsScanned} of {r.RowsTotal}"));
        Assert.Equal(ahead + 1000, await db.ScalarAsync<long>("SELECT rows_total FROM backfill_progress WHERE migration = 'signal-events'"));
        // Rows added behind the checkpoint are not the backfill's: under dual_write, ingest writes them to both tables.
        Assert.Equal(run.Progress.RowsScanned, await db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }
}
