using Npgsql;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>One table outside systems write, and the SQL its tests need, in the legacy table's own terms.</summary>
public sealed record ContentTableCase(
    DataMigration Migration,
    string Seed,
    string Insert,
    string Update,
    string BadRow,
    string Rule,
    string OldQuery)
{
    public override string ToString() => Migration.Name;
}

/// <summary>
/// signal-metrics, signal-embeds and signal-saves on real rows: backfill, parity, repair from the
/// legacy table, the capture trigger under outside writes, the gates, cut-over and rollback.
/// </summary>
public sealed class ContentTableMigrationTests
{
    public static readonly ContentTableCase Metrics = new(SignalMetricsMigration.Declaration,
        Seed: """
            INSERT INTO blog_article_metrics (article_id, date, page_views, unique_visitors, avg_time_on_page, bounce_rate,
                   organic_search, direct_traffic, social_traffic, search_impressions, search_clicks, avg_search_position,
                   created_at, updated_at)
            SELECT md5('article' || (i % 40))::uuid, current_date - i / 40, i % 500, i % 300, 30 + i % 200, (i % 10000) / 100.0,
                   i % 100, i % 50, i % 25, 1000 + i, i % 1000, 1 + (i % 900) / 10.0,
                   now() - make_interval(days => i / 40), now() - make_interval(hours => i)
              FROM generate_series(1, @rows) AS i
            """,
        Insert: "INSERT INTO blog_article_metrics (article_id, date, page_views) VALUES (gen_random_uuid(), current_date, 7) RETURNING id",
        Update: "UPDATE blog_article_metrics SET page_views = page_views + 1, updated_at = now() WHERE id = @id",
        BadRow: "INSERT INTO blog_article_metrics (article_id, date) VALUES (gen_random_uuid(), current_date + 30) RETURNING id",
        Rule: "future_dated_metrics",
        OldQuery: "SELECT coalesce(sum(page_views), 0) FROM blog_article_metrics WHERE article_id IS NOT NULL AND date <= current_date");

    public static readonly ContentTableCase Embeds = new(SignalEmbedsMigration.Declaration,
        Seed: """
            INSERT INTO blog_listing_links (article_id, listing_id, position_in_article, embed_instance_id, metadata, created_at)
            SELECT md5('article' || (i % 40))::uuid, CASE WHEN i % 17 <> 0 THEN md5('listing' || i)::uuid END, i / 40,
                   'embed-' || i, jsonb_build_object('variant', i % 3), now() - make_interval(mins => i)
              FROM generate_series(1, @rows) AS i
            """,
        Insert: "INSERT INTO blog_listing_links (article_id, listing_id, position_in_article) VALUES (gen_random_uuid(), gen_random_uuid(), 1) RETURNING id",
        Update: "UPDATE blog_listing_links SET position_in_article = position_in_article + 1000 WHERE id = @id",
        BadRow: "INSERT INTO blog_listing_links (article_id, listing_id, position_in_article, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), 1, now() + interval '1 day') RETURNING id",
        Rule: "future_dated_embeds",
        OldQuery: "SELECT count(*) FROM blog_listing_links WHERE position_in_article >= 0 AND article_id IS NOT NULL");

    public static readonly ContentTableCase Saves = new(SignalSavesMigration.Declaration,
        Seed: """
            INSERT INTO blog_article_saves (article_id, user_id, wiselist_id, visibility, created_at)
            SELECT md5('article' || (i % 40))::uuid, md5('user' || i)::uuid, md5('wiselist' || (i % 7))::uuid,
                   (ARRAY['private', 'inherit_wiselist'])[1 + i % 2], now() - make_interval(mins => i)
              FROM generate_series(1, @rows) AS i
            """,
        Insert: "INSERT INTO blog_article_saves (article_id, user_id, wiselist_id) VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid()) RETURNING id",
        Update: "UPDATE blog_article_saves SET visibility = CASE visibility WHEN 'private' THEN 'inherit_wiselist' ELSE 'private' END WHERE id = @id",
        BadRow: "INSERT INTO blog_article_saves (article_id, user_id, wiselist_id, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), now() + interval '1 day') RETURNING id",
        Rule: "future_dated_saves",
        OldQuery: "SELECT count(*) FROM blog_article_saves WHERE visibility = 'private' AND article_id IS NOT NULL");

    public static readonly TheoryData<ContentTableCase> Cases = [Metrics, Embeds, Saves];

    private static async Task<(TestDatabase Db, Engine Engine, DataMigration M)> SeededAsync(ContentTableCase c, int rows, MigrationOptions? settings = null)
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync(c.Seed, new { rows });
        return (db, new Engine(db, settings), c.Migration);
    }

    /// <summary>Seeded, at dual_write (capture installed) and backfilled.</summary>
    private static async Task<(TestDatabase Db, Engine Engine, DataMigration M)> BackfilledAsync(ContentTableCase c, int rows)
    {
        var (db, engine, m) = await SeededAsync(c, rows);
        await engine.MoveAsync(m, Stage.DualWrite);
        await engine.BackfillAsync(m);
        return (db, engine, m);
    }

    private static Task<long> TargetRowsAsync(TestDatabase db, DataMigration m) =>
        db.ScalarAsync<long>($"SELECT count(*) FROM {m.Target} t WHERE {m.TargetFilter}");

    private static Task<long> CaptureTriggersAsync(TestDatabase db, DataMigration m) =>
        db.ScalarAsync<long>($"SELECT count(*) FROM pg_trigger WHERE tgname LIKE '{m.Source}_capture_%'");

    /// <summary>The row as parity sees it on each side: equal when the copy is exact.</summary>
    private static async Task<(string? Source, string? Target)> ImagesAsync(TestDatabase db, DataMigration m, Guid id) => (
        await db.ScalarAsync<string?>($"SELECT {m.SourceImage} FROM {m.Source} s WHERE s.id = @id", new { id }),
        await db.ScalarAsync<string?>($"SELECT {m.TargetImage} FROM {m.Target} t WHERE t.id = @id", new { id }));

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Backfill_copies_every_legacy_row_and_parity_is_then_clean(ContentTableCase c)
    {
        var (db, engine, m) = await SeededAsync(c, 1500);
        await using var _ = db;

        var run = await engine.BackfillAsync(m);

        Assert.Equal("complete", run.Outcome);
        Assert.Equal(1500, run.Progress.RowsCopied);
        Assert.Equal(1500L, await TargetRowsAsync(db, m));
        var report = await engine.ParityAsync(m);
        Assert.True(report.Equal);
        Assert.Equal(1500, report.RowsCompared);
        await engine.AssertCleanAsync(m);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Injected_missing_extra_and_changed_rows_are_found_and_repaired_from_the_legacy_table_even_at_live(ContentTableCase c)
    {
        var (db, engine, m) = await BackfilledAsync(c, 600);
        await using var _ = db;
        await engine.MoveAsync(m, Stage.Shadow);
        await engine.AssertCleanAsync(m);
        await engine.MoveAsync(m, Stage.Live);
        var ids = await db.QueryAsync<Guid>($"SELECT id FROM {m.Source} ORDER BY id LIMIT 4");
        await db.ExecuteBehindTheTriggersAsync($"DELETE FROM {m.Target} WHERE id = @id", new { id = ids[0] });
        await db.ExecuteBehindTheTriggersAsync($"DELETE FROM {m.Source} WHERE id = @id", new { id = ids[1] });
        await db.ExecuteBehindTheTriggersAsync($"UPDATE {m.Target} SET created_at = created_at - interval '1 day' WHERE id = @id", new { id = ids[2] });
        await db.ExecuteBehindTheTriggersAsync(c.Update, new { id = ids[3] });

        var report = await engine.ParityAsync(m);
        Assert.Equal([ids[0].ToString()], report.MissingKeys);
        Assert.Equal([ids[1].ToString()], report.ExtraKeys);
        Assert.Equal(new[] { ids[2], ids[3] }.Select(i => i.ToString()).Order(), report.DifferentKeys.Order());

        var repair = await engine.RepairAsync(m);

        // Outside writers write the legacy table at every stage before the cut-over: it wins, at live too.
        Assert.Equal(4, repair.KeysFixed);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {m.Source} WHERE id = @id", new { id = ids[1] }));
        foreach (var id in new[] { ids[0], ids[2], ids[3] })
        {
            var (source, target) = await ImagesAsync(db, m, id);
            Assert.Equal(source, target);
        }
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {m.Target} WHERE id = @id", new { id = ids[1] }));
        await engine.AssertCleanAsync(m);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_validation_rule_fires_on_an_injected_bad_row_and_an_error_keeps_parity_unclean(ContentTableCase c)
    {
        var (db, engine, m) = await BackfilledAsync(c, 200);
        await using var _ = db;
        var bad = await db.ScalarAsync<Guid>(c.BadRow);

        var report = await engine.ParityAsync(m);

        Assert.True(report.Equal);
        Assert.False(report.Clean);
        var rule = report.Validation.Single(r => r.Name == c.Rule);
        Assert.Equal(1, rule.Violations);
        Assert.Equal("error", rule.Severity);
        var gate = await engine.StageAsync(m, Stage.Live);
        Assert.True(gate.Refused);

        await db.ExecuteAsync($"DELETE FROM {m.Source} WHERE id = @bad", new { bad });
        await engine.AssertCleanAsync(m);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task An_outside_delete_in_flight_while_the_backfill_copies_its_row_is_not_undone(ContentTableCase c)
    {
        var (db, engine, m) = await SeededAsync(c, 300);
        await using var _ = db;
        await engine.MoveAsync(m, Stage.DualWrite);
        var doomed = (await db.QueryAsync<Guid>($"SELECT id FROM {m.Source} ORDER BY id LIMIT 1 OFFSET 150"))[0];

        // The outside writer deletes the row and its trigger finds nothing to delete in the new
        // table yet; the writer has not committed when the backfill reaches the row.
        await using var writer = await db.DataSource.OpenConnectionAsync();
        await using var tx = await writer.BeginTransactionAsync();
        await using (var delete = new NpgsqlCommand($"DELETE FROM {m.Source} WHERE id = @id", writer, tx))
        {
            delete.Parameters.AddWithValue("id", doomed);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        var backfill = engine.BackfillAsync(m);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!backfill.IsCompleted && DateTime.UtcNow < deadline
               && await db.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0)
        {
            await Task.Delay(20);
        }
        await tx.CommitAsync();
        var run = await backfill;

        Assert.Equal("complete", run.Outcome);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {m.Target} WHERE id = @doomed", new { doomed }));
        Assert.Equal(299L, await TargetRowsAsync(db, m));
        await engine.AssertCleanAsync(m);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Outside_inserts_updates_and_deletes_are_mirrored_in_the_writers_transaction_and_parity_stays_clean(ContentTableCase c)
    {
        var (db, engine, m) = await SeededAsync(c, 400);
        await using var _ = db;
        await engine.MoveAsync(m, Stage.DualWrite);
        Assert.Equal(4L, await CaptureTriggersAsync(db, m));
        var seeded = await db.QueryAsync<Guid>($"SELECT id FROM {m.Source} ORDER BY id LIMIT 3");

        // Before the backfill: the trigger copies what it touches, the backfill the rest.
        var inserted = await db.ScalarAsync<Guid>(c.Insert);
        await db.ExecuteAsync(c.Update, new { id = seeded[0] });
        await db.ExecuteAsync($"DELETE FROM {m.Source} WHERE id = @id", new { id = seeded[1] });
        Assert.Equal(2L, await TargetRowsAsync(db, m));
        await engine.BackfillAsync(m);

        // After it: single rows, a statement over many rows, and a writer that rolls back.
        var later = await db.ScalarAsync<Guid>(c.Insert);
        await db.ExecuteAsync(c.Update, new { id = inserted });
        await db.ExecuteAsync($"UPDATE {m.Source} SET created_at = created_at - interval '1 minute' WHERE article_id = (SELECT article_id FROM {m.Source} WHERE id = @id)", new { id = seeded[2] });
        await db.ExecuteAsync($"DELETE FROM {m.Source} WHERE id = @id", new { id = later });
        await using (var connection = await db.DataSource.OpenConnectionAsync())
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await using var insert = new NpgsqlCommand(c.Insert, connection, tx);
            var uncommitted = (Guid)(await insert.ExecuteScalarAsync())!;
            // The copy is part of the writer's transaction: nobody else sees it before the commit.
            Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {m.Target} WHERE id = @uncommitted", new { uncommitted }));
            await tx.RollbackAsync();
        }

        var report = await engine.ParityAsync(m);
        Assert.True(report.Clean, $"{report.MissingCount} missing, {report.ExtraCount} extra, {report.DifferentCount} different");
        Assert.Equal(400, report.RowsCompared);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM repair_entries"));

        // TRUNCATE is an outside write too.
        await db.ExecuteAsync($"TRUNCATE {m.Source}");
        Assert.Equal(0L, await TargetRowsAsync(db, m));
        await engine.AssertCleanAsync(m);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_copy_the_new_table_refuses_is_queued_for_repair_and_the_outside_write_stands(ContentTableCase c)
    {
        var (db, engine, m) = await BackfilledAsync(c, 100);
        await using var _ = db;
        await db.ExecuteAsync($"""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'new table unavailable'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON {m.Target} FOR EACH ROW EXECUTE FUNCTION refuse();
            """);

        var id = await db.ScalarAsync<Guid>(c.Insert);

        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {m.Source} WHERE id = @id", new { id }));
        var queued = await db.QueryAsync<(string Key, string Operation, string Error)>(
            "SELECT entity_key, operation, error FROM repair_entries WHERE migration = @Name AND resolved_at IS NULL", m);
        Assert.Equal((id.ToString(), RepairJob.SyncKeyOperation), (Assert.Single(queued).Key, queued[0].Operation));
        Assert.Contains("new table unavailable", queued[0].Error, StringComparison.Ordinal);

        var stillRefused = await engine.RepairAsync(m);
        Assert.Equal((0, 1, 1), (stillRefused.Repaired, stillRefused.Failed, stillRefused.Remaining));

        await db.ExecuteAsync($"DROP TRIGGER refuse ON {m.Target}");
        var repair = await engine.RepairAsync(m);
        Assert.Equal((1, 0), (repair.Repaired, repair.Remaining));
        var (source, target) = await ImagesAsync(db, m, id);
        Assert.Equal(source, target);
        await engine.AssertCleanAsync(m);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Off_to_complete_cut_over_and_back_with_honest_gates_keeps_every_row(ContentTableCase c)
    {
        var (db, engine, m) = await SeededAsync(c, 300);
        await using var _ = db;
        var columnsSql = $"SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '{m.Source}'";
        var oldColumns = await db.ScalarAsync<string>(columnsSql);

        await engine.MoveAsync(m, Stage.DualWrite);
        var early = await engine.StageAsync(m, Stage.Shadow);
        Assert.True(early.Refused);
        Assert.Contains(early.FailedGates, g => g.Contains("backfill is not complete", StringComparison.Ordinal));
        await engine.BackfillAsync(m);
        await db.ExecuteAsync(c.Insert);
        await engine.MoveAsync(m, Stage.Shadow);
        var noParity = await engine.StageAsync(m, Stage.Live);
        Assert.True(noParity.Refused);
        Assert.Contains(noParity.FailedGates, g => g.Contains("parity report is not clean", StringComparison.Ordinal));
        await engine.AssertCleanAsync(m);
        await engine.MoveAsync(m, Stage.Live);
        await db.ExecuteAsync(c.Insert);
        await engine.AssertCleanAsync(m);
        await engine.MoveAsync(m, Stage.Rampdown);
        await engine.AssertCleanAsync(m);
        await engine.MoveAsync(m, Stage.Complete);

        // At complete the outside writers still write the old table until the cut-over: still copied.
        Assert.Equal(4L, await CaptureTriggersAsync(db, m));
        await db.ExecuteAsync(c.Insert);
        await engine.AssertCleanAsync(m);
        var oldAnswer = await db.ScalarAsync<decimal>(c.OldQuery);
        var rows = await TargetRowsAsync(db, m);

        await engine.Cutover.CutOverAsync(m, "test", CancellationToken.None);

        Assert.Equal("v", await db.ScalarAsync<string>($"SELECT relkind::text FROM pg_class WHERE relname = '{m.Source}'"));
        Assert.Equal(0L, await CaptureTriggersAsync(db, m));
        Assert.Equal(oldColumns, await db.ScalarAsync<string>(columnsSql));
        Assert.Equal(oldAnswer, await db.ScalarAsync<decimal>(c.OldQuery));
        Assert.True((await engine.StageAsync(m, Stage.Rampdown)).Refused);
        // Written while cut over, through the old name: the view is simple enough to take writes.
        var written = await db.ScalarAsync<Guid>(c.Insert);
        await db.ExecuteAsync(c.Update, new { id = written });
        var changedImage = (await ImagesAsync(db, m, written)).Target;
        Assert.Equal(rows + 1, await TargetRowsAsync(db, m));

        await engine.Cutover.RollBackAsync(m, CancellationToken.None);

        Assert.Equal("r", await db.ScalarAsync<string>($"SELECT relkind::text FROM pg_class WHERE relname = '{m.Source}'"));
        Assert.False(await db.ScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = '{m.Source}_backup')"));
        Assert.Equal(rows + 1, await db.ScalarAsync<long>($"SELECT count(*) FROM {m.Source}"));
        Assert.Equal(changedImage, (await ImagesAsync(db, m, written)).Source);
        // Back to a table at complete: outside writes are copied again from the rollback's commit on.
        Assert.Equal(4L, await CaptureTriggersAsync(db, m));
        await db.ExecuteAsync(c.Insert);
        await engine.AssertCleanAsync(m);
        await engine.MoveAsync(m, Stage.Rampdown);
        await engine.MoveAsync(m, Stage.Off);
        Assert.Equal(0L, await CaptureTriggersAsync(db, m));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Rollback_keeps_rows_only_the_backup_has_and_takes_along_deletes_rekeys_and_updates_made_while_cut_over(ContentTableCase c)
    {
        var (db, engine, m) = await BackfilledAsync(c, 200);
        await using var _ = db;
        foreach (var stage in new[] { Stage.Shadow, Stage.Live, Stage.Rampdown, Stage.Complete })
        {
            await engine.AssertCleanAsync(m);
            await engine.MoveAsync(m, stage);
        }
        var ids = await db.QueryAsync<Guid>($"SELECT id FROM {m.Source} ORDER BY id LIMIT 4");
        await engine.Cutover.CutOverAsync(m, "test", CancellationToken.None);

        // Through the view, and in the new table directly.
        await db.ExecuteAsync($"DELETE FROM {m.Source} WHERE id = @id", new { id = ids[0] });
        await db.ExecuteAsync($"DELETE FROM {m.Target} WHERE id = @id", new { id = ids[1] });
        var rekeyed = await db.ScalarAsync<Guid>($"UPDATE {m.Source} SET id = gen_random_uuid() WHERE id = @id RETURNING id", new { id = ids[2] });
        await db.ExecuteAsync(c.Update, new { id = ids[3] });
        var updated = (await ImagesAsync(db, m, ids[3])).Target;
        // A row only the old side has (nothing copied it): the rollback must not take it for a delete.
        var stray = await db.ScalarAsync<Guid>(c.Insert.Replace($"INSERT INTO {m.Source} ", $"INSERT INTO {m.Source}_backup ", StringComparison.Ordinal));
        var truncate = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync($"TRUNCATE {m.Target}"));
        Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, truncate.SqlState);
        Assert.Contains("DELETE the rows instead, or roll back first", truncate.MessageText, StringComparison.Ordinal);

        await engine.Cutover.RollBackAsync(m, CancellationToken.None);

        Assert.Equal((0L, 0L, 0L, 1L, 1L), (await SourceRowsAsync(ids[0]), await SourceRowsAsync(ids[1]), await SourceRowsAsync(ids[2]),
            await SourceRowsAsync(rekeyed), await SourceRowsAsync(stray)));
        Assert.Equal(updated, (await ImagesAsync(db, m, ids[3])).Source);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cutover_deletes"));
        Assert.Equal(0L, await db.ScalarAsync<long>(@"SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\_cutover\_%'"));
        // Outside writers own the old table: parity finds the stray row missing, repair copies it.
        Assert.Equal([stray.ToString()], (await engine.ParityAsync(m)).MissingKeys);
        await engine.RepairAsync(m);
        await engine.AssertCleanAsync(m);
        await db.ExecuteAsync($"TRUNCATE {m.Target}");
        Assert.Equal(0L, await TargetRowsAsync(db, m));

        Task<long> SourceRowsAsync(Guid id) => db.ScalarAsync<long>($"SELECT count(*) FROM {m.Source} WHERE id = @id", new { id });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_backfill_interrupted_again_and_again_resumes_from_its_checkpoint_and_ends_clean(ContentTableCase c)
    {
        var (db, engine, m) = await SeededAsync(c, 12_000, new MigrationOptions { ParityFenceSeconds = 0, MinBatchSize = 150, MaxBatchSize = 150 });
        await using var _ = db;

        var checkpoints = await BackfillInterruptions.RunUntilCompleteAsync(engine, m, () => TargetRowsAsync(db, m));

        Assert.True(checkpoints.Count > 3, $"only {checkpoints.Count} runs: nothing was interrupted");
        Assert.Equal(12_000, checkpoints[^1]);
        await engine.AssertCleanAsync(m);
    }

    [Fact]
    public async Task A_natural_key_held_by_a_stale_row_goes_to_the_copy_from_the_legacy_table()
    {
        var m = SignalMetricsMigration.Declaration;
        await using var db = await TestDatabase.CreateAsync();
        var engine = new Engine(db);
        var article = Guid.NewGuid();
        await db.ExecuteAsync("INSERT INTO blog_article_metrics (article_id, date, page_views) VALUES (@article, current_date - 1, 5)", new { article });
        // A stale row in the new table holds (content, 'article', date) under another id.
        await db.ExecuteAsync("""
            INSERT INTO signal_metrics (content_id, date, page_views) VALUES (@article, current_date - 1, 99), (@article, current_date, 98)
            """, new { article });

        var run = await engine.BackfillAsync(m);
        Assert.Equal(0, run.Progress.RowsCopied);
        var report = await engine.ParityAsync(m);
        Assert.Equal((1, 2), (report.MissingCount, report.ExtraCount));
        await engine.RepairAsync(m);
        await engine.AssertCleanAsync(m);

        // The trigger gives way the same: the outside writer's row takes the natural key.
        await db.ExecuteAsync("INSERT INTO signal_metrics (content_id, date, page_views) VALUES (@article, current_date, 97)", new { article });
        await engine.MoveAsync(m, Stage.DualWrite);
        await db.ExecuteAsync("INSERT INTO blog_article_metrics (article_id, date, page_views) VALUES (@article, current_date, 6)", new { article });
        Assert.Equal(new long[] { 5, 6 }, await db.QueryAsync<long>("SELECT page_views FROM signal_metrics WHERE content_id = @article ORDER BY date", new { article }));
        await engine.AssertCleanAsync(m);
    }
}
