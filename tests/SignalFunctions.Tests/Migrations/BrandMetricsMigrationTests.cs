using SignalFunctions.Demo;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// brand-metrics on demo data: one collector result fans out to five tables, parity per collector
/// result, repair, the unknown-competitor rule, the capture trigger, cut-over and rollback.
/// </summary>
public sealed class BrandMetricsMigrationTests
{
    private static readonly DataMigration M = BrandMetricsMigration.Declaration;

    public static async Task<TestDatabase> SeededAsync(long results = 400, int brands = 6)
    {
        var db = await TestDatabase.CreateAsync();
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await BrandPositions.FillAsync(connection, brands, results, days: 30, seed: 7, CancellationToken.None);
        return db;
    }

    private static Task<long> CountAsync(TestDatabase db, string table) => db.ScalarAsync<long>($"SELECT count(*) FROM {table}");

    private static Task<IReadOnlyList<long>> ResultsAsync(TestDatabase db, int count) => db.QueryAsync<long>(
        "SELECT collector_result_id FROM extracted_positions WHERE competitor_name IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT @count", new { count });

    /// <summary>Off to complete through every gate, parity clean at each stage.</summary>
    private static async Task ToCompleteAsync(Engine engine)
    {
        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);
        await engine.RefreshViewsAsync();
        foreach (var stage in new[] { Stage.Live, Stage.Rampdown, Stage.Complete })
        {
            await engine.AssertCleanAsync(M);
            await engine.MoveAsync(M, stage);
        }
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task Backfill_fans_every_collector_result_out_to_the_five_tables_and_parity_is_clean()
    {
        await using var db = await SeededAsync();
        var engine = new Engine(db);

        var run = await engine.BackfillAsync(M);

        Assert.Equal("complete", run.Outcome);
        Assert.Equal(400, run.Progress.RowsCopied);
        Assert.Equal(400L, await CountAsync(db, "metric_facts"));
        Assert.Equal(400L, await CountAsync(db, "brand_metrics"));
        Assert.Equal(await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE competitor_name IS NULL AND (sentiment_label IS NOT NULL OR sentiment_score IS NOT NULL)"),
            await CountAsync(db, "brand_sentiment"));
        Assert.Equal(await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE competitor_name IS NOT NULL"),
            await CountAsync(db, "competitor_metrics"));
        Assert.Equal(await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE competitor_name IS NOT NULL AND sentiment_label_competitor IS NOT NULL"),
            await CountAsync(db, "competitor_sentiment"));
        // Several competitors per brand, sentiment present and absent: the shape the plan describes.
        Assert.True(await db.ScalarAsync<long>("SELECT max(n) FROM (SELECT count(*) AS n FROM competitor_metrics GROUP BY metric_fact_id) c") >= 3);
        Assert.True(await CountAsync(db, "brand_sentiment") < 400);

        var report = await engine.ParityAsync(M);
        Assert.True(report.Clean);
        Assert.Equal(400, report.RowsCompared);
        // A second run copies nothing again.
        await Backfill.ResetAsync(db.DataSource.OpenConnection(), M.Name, CancellationToken.None);
        Assert.Equal(0, (await engine.BackfillAsync(M)).Progress.RowsCopied);
    }

    [Fact]
    public async Task Injected_differences_in_any_of_the_five_tables_are_found_per_collector_result_and_repaired()
    {
        await using var db = await SeededAsync();
        var engine = new Engine(db);
        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        var ids = await ResultsAsync(db, 5);

        await db.ExecuteBehindTheTriggersAsync("DELETE FROM metric_facts WHERE collector_result_id = @id", new { id = ids[0] });
        await db.ExecuteBehindTheTriggersAsync("UPDATE brand_metrics SET total_word_count = total_word_count + 1 WHERE metric_fact_id = (SELECT id FROM metric_facts WHERE collector_result_id = @id)", new { id = ids[1] });
        await db.ExecuteBehindTheTriggersAsync("DELETE FROM competitor_metrics WHERE id = (SELECT min(c.id) FROM competitor_metrics c JOIN metric_facts f ON f.id = c.metric_fact_id WHERE f.collector_result_id = @id)", new { id = ids[2] });
        await db.ExecuteBehindTheTriggersAsync("UPDATE extracted_positions SET competitor_mentions = competitor_mentions + 5 WHERE collector_result_id = @id AND competitor_name IS NOT NULL", new { id = ids[3] });
        await db.ExecuteBehindTheTriggersAsync("DELETE FROM extracted_positions WHERE collector_result_id = @id", new { id = ids[4] });

        var report = await engine.ParityAsync(M);

        Assert.Equal([ids[0].ToString()], report.MissingKeys);
        Assert.Equal([ids[4].ToString()], report.ExtraKeys);
        Assert.Equal(new[] { ids[1], ids[2], ids[3] }.Select(i => i.ToString()).Order(), report.DifferentKeys.Order());

        var repair = await engine.RepairAsync(M);

        Assert.Equal(5, repair.KeysFixed);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM metric_facts WHERE collector_result_id = @id", new { id = ids[4] }));
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task An_unknown_competitor_is_reported_by_an_error_rule_that_holds_the_gate_until_the_competitor_is_added()
    {
        await using var db = await SeededAsync(100);
        var engine = new Engine(db);
        await engine.MoveAsync(M, Stage.DualWrite);
        var id = (await ResultsAsync(db, 1))[0];
        // An outside write during dual_write: the capture copies what it can, the rule reports the rest.
        await db.ExecuteAsync("""
            INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, competitor_name,
                                             visibility_index_competitor, competitor_mentions, processed_at)
            SELECT collector_result_id, brand_id, customer_id, query_id, collector_type, 'Newcomer Ltd', 12.5, 2, processed_at
              FROM extracted_positions WHERE collector_result_id = @id AND competitor_name IS NULL
            """, new { id });
        await engine.BackfillAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);

        var report = await engine.ParityAsync(M);

        Assert.True(report.Equal);
        Assert.False(report.Clean);
        var rule = report.Validation.Single(r => r.Name == "unknown_competitors");
        Assert.Equal((1L, "error"), (rule.Violations, rule.Severity));
        Assert.True((await engine.StageAsync(M, Stage.Live)).Refused);

        // Adding the competitor makes the row migratable: parity finds its collector result different, repair copies it.
        await db.ExecuteAsync("INSERT INTO brand_competitors (brand_id, competitor_name) SELECT brand_id, 'Newcomer Ltd' FROM extracted_positions WHERE collector_result_id = @id AND competitor_name IS NULL", new { id });
        var after = await engine.ParityAsync(M);
        Assert.Equal([id.ToString()], after.DifferentKeys);
        await engine.RepairAsync(M);
        await engine.AssertCleanAsync(M);
        Assert.Equal(1L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM competitor_metrics c JOIN brand_competitors bc ON bc.id = c.competitor_id
             WHERE bc.competitor_name = 'Newcomer Ltd' AND c.visibility_index = 12.5
            """));
        await engine.RefreshViewsAsync();
        await engine.MoveAsync(M, Stage.Live);
    }

    [Fact]
    public async Task Outside_writes_to_extracted_positions_are_mirrored_per_collector_result_in_the_writers_transaction()
    {
        await using var db = await SeededAsync(200);
        var engine = new Engine(db);
        await engine.MoveAsync(M, Stage.DualWrite);
        var ids = await ResultsAsync(db, 3);

        // Before the backfill the trigger copies what it touches; the backfill skips those (already there).
        await db.ExecuteAsync("UPDATE extracted_positions SET visibility_index = 1.5 WHERE collector_result_id = @id AND competitor_name IS NULL", new { id = ids[0] });
        Assert.Equal(1L, await CountAsync(db, "metric_facts"));
        await engine.BackfillAsync(M);

        // The scoring service's write: a new collector result, brand row and competitor rows in separate statements.
        var result = await db.ScalarAsync<long>("""
            INSERT INTO collector_results (query_id, collector_type) SELECT query_id, 'claude' FROM extracted_positions WHERE collector_result_id = @id LIMIT 1 RETURNING id
            """, new { id = ids[1] });
        await db.ExecuteAsync("""
            INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, topic, visibility_index,
                                             sentiment_label, sentiment_score, processed_at)
            SELECT @result, brand_id, customer_id, query_id, 'claude', topic, 40, 'POSITIVE', 0.8, now()
              FROM extracted_positions WHERE collector_result_id = @id AND competitor_name IS NULL
            """, new { result, id = ids[1] });
        await db.ExecuteAsync("""
            INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, competitor_name,
                                             visibility_index_competitor, sentiment_label_competitor, processed_at)
            SELECT p.collector_result_id, p.brand_id, p.customer_id, p.query_id, p.collector_type, bc.competitor_name, 20, 'NEGATIVE', p.processed_at
              FROM extracted_positions p JOIN brand_competitors bc ON bc.brand_id = p.brand_id
             WHERE p.collector_result_id = @result
            """, new { result });
        await db.ExecuteAsync("DELETE FROM extracted_positions WHERE collector_result_id = @id AND competitor_name IS NOT NULL", new { id = ids[2] });

        Assert.Equal(await db.ScalarAsync<long>("SELECT count(*) FROM brand_competitors bc JOIN extracted_positions p ON p.brand_id = bc.brand_id WHERE p.collector_result_id = @result AND p.competitor_name IS NULL", new { result }),
            await db.ScalarAsync<long>("SELECT count(*) FROM competitor_sentiment c JOIN metric_facts f ON f.id = c.metric_fact_id WHERE f.collector_result_id = @result", new { result }));
        await engine.AssertCleanAsync(M);
        Assert.Equal(0L, await CountAsync(db, "repair_entries"));
    }

    [Fact]
    public async Task Off_to_complete_cut_over_to_a_view_and_rollback_keep_every_collector_result()
    {
        await using var db = await SeededAsync(300);
        var engine = new Engine(db);
        const string columnsSql = "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'extracted_positions'";
        const string oldQuery = "SELECT count(*) || '/' || coalesce(sum(competitor_mentions), 0) || '/' || coalesce(sum(visibility_index), 0) FROM extracted_positions";
        var oldColumns = await db.ScalarAsync<string>(columnsSql);

        await ToCompleteAsync(engine);
        var oldAnswer = await db.ScalarAsync<string>(oldQuery);

        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);

        Assert.Equal("v", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'extracted_positions'"));
        Assert.Equal(oldColumns, await db.ScalarAsync<string>(columnsSql));
        Assert.Equal(oldAnswer, await db.ScalarAsync<string>(oldQuery));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'extracted_positions_capture%'"));
        // Written while cut over, to the new schema: the rollback brings that collector result back.
        var changed = (await ResultsAsync(db, 1))[0];
        await db.ExecuteAsync("UPDATE brand_metrics SET total_word_count = 4242 WHERE metric_fact_id = (SELECT id FROM metric_facts WHERE collector_result_id = @changed)", new { changed });
        var untouched = await db.ScalarAsync<long>("SELECT min(id) FROM extracted_positions_backup WHERE collector_result_id <> @changed", new { changed });

        await engine.Cutover.RollBackAsync(M, CancellationToken.None);

        Assert.Equal("r", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'extracted_positions'"));
        Assert.Equal(await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE collector_result_id = @changed", new { changed }),
            await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE collector_result_id = @changed AND total_word_count = 4242", new { changed }));
        // Collector results nobody changed keep their legacy rows and ids.
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE id = @untouched", new { untouched }));
        Assert.Equal(4L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'extracted_positions_capture%'"));
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Rampdown);
        await engine.MoveAsync(M, Stage.Off);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'extracted_positions_capture%'"));
    }

    [Fact]
    public async Task After_the_cut_over_outside_writes_through_the_view_reach_the_star_tables_and_rollback_keeps_them_and_the_rest_exactly()
    {
        await using var db = await SeededAsync(150, brands: 3);
        var engine = new Engine(db);
        const string Rows = "SELECT string_agg(ROW(e.*)::text, '|' ORDER BY id) FROM extracted_positions e WHERE NOT (collector_result_id = ANY(@touched))";
        await ToCompleteAsync(engine);
        var (updated, trimmed) = ((await ResultsAsync(db, 2))[0], (await ResultsAsync(db, 2))[1]);
        var brand = await db.ScalarAsync<Guid>("SELECT brand_id FROM extracted_positions WHERE collector_result_id = @updated", new { updated });
        var competitor = await db.ScalarAsync<string>("SELECT competitor_name FROM brand_competitors WHERE brand_id = @brand ORDER BY id LIMIT 1", new { brand });
        var result = await db.ScalarAsync<long>("""
            INSERT INTO collector_results (query_id, collector_type) SELECT query_id, 'claude' FROM extracted_positions WHERE collector_result_id = @updated LIMIT 1 RETURNING id
            """, new { updated });
        long[] touched = [updated, trimmed, result];
        var untouchedBefore = await db.ScalarAsync<string>(Rows, new { touched });

        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);

        // The scoring service's writes, unchanged: a brand row (defaults left out), then a competitor row.
        var brandRowId = await db.ScalarAsync<long?>("""
            INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, topic, visibility_index,
                                             sentiment_label, sentiment_score, processed_at)
            SELECT @result, brand_id, customer_id, query_id, 'claude', topic, 41.5, 'POSITIVE', 0.75, now()
              FROM extracted_positions WHERE collector_result_id = @updated AND competitor_name IS NULL
            RETURNING id
            """, new { result, updated });
        // RETURNING gives the view's id of the row (the fact's, for a brand row).
        Assert.Equal(await db.ScalarAsync<long>("SELECT id FROM metric_facts WHERE collector_result_id = @result", new { result }), brandRowId);
        await db.ExecuteAsync("""
            INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, competitor_name,
                                             visibility_index_competitor, competitor_mentions, sentiment_label_competitor, processed_at)
            SELECT collector_result_id, brand_id, customer_id, query_id, collector_type, @competitor, 17.25, 3, 'NEGATIVE', processed_at
              FROM extracted_positions WHERE collector_result_id = @result AND competitor_name IS NULL
            """, new { result, competitor });
        Assert.Equal((41.5m, 0, true), Assert.Single(await db.QueryAsync<(decimal, int, bool)>("""
            SELECT bm.visibility_index, bm.total_word_count, bs.sentiment_label = 'POSITIVE'
              FROM metric_facts f JOIN brand_metrics bm ON bm.metric_fact_id = f.id JOIN brand_sentiment bs ON bs.metric_fact_id = f.id
             WHERE f.collector_result_id = @result
            """, new { result })));
        Assert.Equal((17.25m, 3, "NEGATIVE"), Assert.Single(await db.QueryAsync<(decimal, int, string)>("""
            SELECT c.visibility_index, c.competitor_mentions, cs.sentiment_label
              FROM metric_facts f JOIN competitor_metrics c ON c.metric_fact_id = f.id
              JOIN competitor_sentiment cs ON cs.metric_fact_id = f.id AND cs.competitor_id = c.competitor_id
             WHERE f.collector_result_id = @result
            """, new { result })));
        await db.ExecuteAsync("UPDATE extracted_positions SET visibility_index = 66.5 WHERE collector_result_id = @updated AND competitor_name IS NULL", new { updated });
        var dropped = await db.ScalarAsync<string>("SELECT competitor_name FROM extracted_positions WHERE collector_result_id = @trimmed AND competitor_name IS NOT NULL ORDER BY 1 LIMIT 1", new { trimmed });
        await db.ExecuteAsync("DELETE FROM extracted_positions WHERE collector_result_id = @trimmed AND competitor_name = @dropped", new { trimmed, dropped });
        Assert.Equal(66.5m, await db.ScalarAsync<decimal>("SELECT bm.visibility_index FROM metric_facts f JOIN brand_metrics bm ON bm.metric_fact_id = f.id WHERE f.collector_result_id = @updated", new { updated }));

        // What the star schema cannot hold is refused, not dropped.
        var unknown = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecuteAsync("""
            INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, competitor_name, processed_at)
            SELECT collector_result_id, brand_id, customer_id, query_id, collector_type, 'Nobody Inc', processed_at
              FROM extracted_positions WHERE collector_result_id = @result AND competitor_name IS NULL
            """, new { result }));
        Assert.Equal(("23503", true), (unknown.SqlState, unknown.MessageText.Contains("\"Nobody Inc\" has no brand_competitors row", StringComparison.Ordinal)));
        var twice = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecuteAsync("""
            INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, processed_at)
            SELECT collector_result_id, brand_id, customer_id, query_id, collector_type, processed_at
              FROM extracted_positions WHERE collector_result_id = @result AND competitor_name IS NULL
            """, new { result }));
        Assert.Equal("23505", twice.SqlState);

        await engine.Cutover.RollBackAsync(M, CancellationToken.None);

        // The table again: the untouched collector results exactly as before, ids included; the writes kept.
        Assert.Equal("r", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'extracted_positions'"));
        Assert.Equal(untouchedBefore, await db.ScalarAsync<string>(Rows, new { touched }));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_proc WHERE proname = 'extracted_positions_write'"));
        Assert.Equal(new (string?, decimal)[] { (null, 41.5m), (competitor, 41.5m) }, await db.QueryAsync<(string?, decimal)>(
            "SELECT competitor_name, visibility_index FROM extracted_positions WHERE collector_result_id = @result ORDER BY competitor_name NULLS FIRST", new { result }));
        Assert.True(await db.ScalarAsync<bool>("SELECT bool_and(visibility_index = 66.5) FROM extracted_positions WHERE collector_result_id = @updated", new { updated }));
        Assert.False(await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM extracted_positions WHERE collector_result_id = @trimmed AND competitor_name = @dropped)", new { trimmed, dropped }));
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task Rollback_keeps_a_collector_result_only_the_backup_has_and_takes_along_deletes_and_updates_made_while_cut_over()
    {
        await using var db = await SeededAsync(150, brands: 3);
        var engine = new Engine(db);
        await ToCompleteAsync(engine);
        var ids = await ResultsAsync(db, 3);
        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);

        // Deleting the brand row through the view deletes the collector result; so does deleting its fact.
        await db.ExecuteAsync("DELETE FROM extracted_positions WHERE collector_result_id = @id AND competitor_name IS NULL", new { id = ids[0] });
        await db.ExecuteAsync("DELETE FROM metric_facts WHERE collector_result_id = @id", new { id = ids[1] });
        await db.ExecuteAsync("UPDATE extracted_positions SET visibility_index = 12.34 WHERE collector_result_id = @id AND competitor_name IS NULL", new { id = ids[2] });
        // A collector result only the old side has (nothing copied it): the rollback must not take it for a delete.
        var stray = await db.ScalarAsync<long>("""
            WITH result AS (
              INSERT INTO collector_results (query_id, collector_type) SELECT query_id, 'claude' FROM extracted_positions_backup WHERE collector_result_id = @id LIMIT 1 RETURNING id)
            INSERT INTO extracted_positions_backup (collector_result_id, brand_id, customer_id, query_id, collector_type, visibility_index, processed_at)
            SELECT r.id, p.brand_id, p.customer_id, p.query_id, 'claude', 7.5, now()
              FROM result r, extracted_positions_backup p WHERE p.collector_result_id = @id AND p.competitor_name IS NULL
            RETURNING collector_result_id
            """, new { id = ids[2] });
        var truncate = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecuteAsync("TRUNCATE metric_facts CASCADE"));
        Assert.Equal((Npgsql.PostgresErrorCodes.ObjectNotInPrerequisiteState, true),
            (truncate.SqlState, truncate.MessageText.Contains("DELETE the rows instead", StringComparison.Ordinal)));

        await engine.Cutover.RollBackAsync(M, CancellationToken.None);

        Assert.Equal((0L, 0L, 1L), (await RowsAsync(ids[0]), await RowsAsync(ids[1]), await RowsAsync(stray)));
        Assert.True(await db.ScalarAsync<bool>("SELECT bool_and(visibility_index = 12.34) FROM extracted_positions WHERE collector_result_id = @id", new { id = ids[2] }));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cutover_deletes"));
        // The scoring service owns the old table: parity finds the stray result missing, repair copies it.
        Assert.Equal([stray.ToString()], (await engine.ParityAsync(M)).MissingKeys);
        await engine.RepairAsync(M);
        await engine.AssertCleanAsync(M);
        await db.ExecuteAsync("TRUNCATE metric_facts CASCADE");

        Task<long> RowsAsync(long id) => db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE collector_result_id = @id", new { id });
    }

    [Fact]
    public async Task Writes_through_the_view_keep_the_ids_of_the_rows_they_keep_the_updated_row_included()
    {
        await using var db = await SeededAsync(60, brands: 2);
        var engine = new Engine(db);
        await ToCompleteAsync(engine);
        var id = await db.ScalarAsync<long>("SELECT collector_result_id FROM extracted_positions WHERE competitor_name IS NOT NULL GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1 LIMIT 1");
        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);
        const string Ids = "SELECT coalesce(competitor_name, '(brand)') || '=' || id FROM extracted_positions WHERE collector_result_id = @id ORDER BY 1";
        var before = await db.QueryAsync<string>(Ids, new { id });
        var (kept, dropped) = (await db.QueryAsync<string>("SELECT competitor_name FROM extracted_positions WHERE collector_result_id = @id AND competitor_name IS NOT NULL ORDER BY 1 LIMIT 2", new { id })) switch
        {
            [var a, var b] => (a, b),
            _ => throw new InvalidOperationException("two competitor rows expected"),
        };

        var updated = await db.ScalarAsync<long>("UPDATE extracted_positions SET competitor_mentions = 99 WHERE collector_result_id = @id AND competitor_name = @kept RETURNING id", new { id, kept });
        var brandRow = await db.ScalarAsync<long>("UPDATE extracted_positions SET visibility_index = 55.5 WHERE collector_result_id = @id AND competitor_name IS NULL RETURNING id", new { id });

        Assert.Equal(before, await db.QueryAsync<string>(Ids, new { id }));
        Assert.Contains($"{kept}={updated}", before);
        Assert.Contains($"(brand)={brandRow}", before);
        Assert.Equal(99, await db.ScalarAsync<int>("SELECT competitor_mentions FROM extracted_positions WHERE id = @updated", new { updated }));
        // A deleted row takes its id along, and the same row written again gets a new one; the others keep theirs.
        await db.ExecuteAsync("DELETE FROM extracted_positions WHERE collector_result_id = @id AND competitor_name = @dropped", new { id, dropped });
        await db.ExecuteAsync("""
            INSERT INTO extracted_positions (id, collector_result_id, brand_id, customer_id, query_id, collector_type, competitor_name, processed_at)
            SELECT -1, collector_result_id, brand_id, customer_id, query_id, collector_type, @dropped, processed_at
              FROM extracted_positions WHERE collector_result_id = @id AND competitor_name IS NULL
            """, new { id, dropped });
        var after = await db.QueryAsync<string>(Ids, new { id });
        Assert.Equal(before.Where(r => !r.StartsWith(dropped + "=", StringComparison.Ordinal)), after.Where(r => !r.StartsWith(dropped + "=", StringComparison.Ordinal)));
        Assert.DoesNotContain(after, r => before.Contains(r) && r.StartsWith(dropped + "=", StringComparison.Ordinal));
        Assert.DoesNotContain(after, r => r == $"{dropped}=-1");
        // The writes reached the star tables as the view shows them: the rollback's copy agrees with them.
        await engine.Cutover.RollBackAsync(M, CancellationToken.None);
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task Cleanup_refuses_before_complete_and_before_the_cut_over_then_archives_the_old_table_without_indexes()
    {
        await using var db = await SeededAsync(150);
        var engine = new Engine(db);

        var help = await OpsCommand.RunAsync(db.ConnectionString, "cleanup", "--help");
        Assert.Equal(0, help.Exit);
        Assert.Contains("_archived", help.Out, StringComparison.Ordinal);
        Assert.Equal(2, (await OpsCommand.RunAsync(db.ConnectionString, "cleanup", "no-such-migration")).Exit);
        var early = await OpsCommand.RunAsync(db.ConnectionString, "cleanup", M.Name);
        Assert.Equal((1, true), (early.Exit, early.Err.Contains("is at off (100%): clean up only at complete", StringComparison.Ordinal)));

        await ToCompleteAsync(engine);
        var notCutOver = await OpsCommand.RunAsync(db.ConnectionString, "cleanup", M.Name);
        Assert.Equal((1, true), (notCutOver.Exit, notCutOver.Err.Contains("is not cut over", StringComparison.Ordinal)));
        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);
        // An unclean last report from before the cut-over refuses too, with its counts. None can be
        // made after it: the old name is a view over the new tables by then.
        await db.ExecuteAsync("""
            INSERT INTO parity_reports (migration, started_at, finished_at, ranges_checked, rows_compared, missing_count, extra_count,
                                        different_count, missing_keys, extra_keys, different_keys, validation, clean)
            SELECT 'brand-metrics', cut_over_at - interval '1 second', cut_over_at, 1, 150, 0, 0, 1, '{}', '{}', '{1}', '[]', false
              FROM cutovers WHERE migration = 'brand-metrics'
            """);
        await Assert.ThrowsAsync<ParityNotApplicableException>(() => engine.ParityAsync(M));
        var unclean = await OpsCommand.RunAsync(db.ConnectionString, "cleanup", M.Name);
        Assert.Equal((1, true), (unclean.Exit, unclean.Err.Contains("before the cut-over", StringComparison.Ordinal) &&
                                               unclean.Err.Contains("is not clean: 0 missing, 0 extra, 1 different", StringComparison.Ordinal)));
        await engine.Cutover.RollBackAsync(M, CancellationToken.None);
        await engine.AssertCleanAsync(M);
        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);
        var rows = await CountAsync(db, "extracted_positions_backup");

        var done = await OpsCommand.RunAsync(db.ConnectionString, "cleanup", M.Name);

        Assert.True(done.Exit == 0, done.Err);
        Assert.Contains("archived as extracted_positions_archived", done.Out, StringComparison.Ordinal);
        Assert.Equal(rows, await CountAsync(db, "extracted_positions_archived"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_index WHERE indrelid = 'extracted_positions_archived'::regclass"));
        Assert.Equal("v", await db.ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'extracted_positions'"));
        var rollback = await Assert.ThrowsAsync<CutoverRefusedException>(() => engine.Cutover.RollBackAsync(M, CancellationToken.None));
        Assert.Contains("no longer possible", rollback.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await OpsCommand.RunAsync(db.ConnectionString, "cleanup", M.Name)).Exit);
    }
}
