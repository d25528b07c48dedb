using SignalFunctions.Demo;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// content-queue (blue-green-dual-write-plan.md) on real rows: three legacy tables the bot writes,
/// mirrored by the capture trigger from dual_write, compared per decision, repaired from the
/// legacy side, gated by its rules, cut over to the plan's views and rolled back.
/// </summary>
public sealed class ContentQueueMigrationTests
{
    private static readonly DataMigration M = ContentQueueMigration.Declaration;

    private static async Task<(TestDatabase Db, Engine Engine)> SeededAsync(int rows = 600)
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync(PlanLegacyTables.ContentSql, new { run = "", rows });
        return (db, new Engine(db));
    }

    private static Task<long> CountAsync(TestDatabase db, string table) => db.ScalarAsync<long>($"SELECT count(*) FROM {table}");

    private const string Triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_capture_%'";

    /// <summary>What the engine installs on the new tables while cut over: record deletes and rekeys, refuse TRUNCATE.</summary>
    private const string CutoverTriggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_cutover\\_%'";

    [Fact]
    public async Task Backfill_copies_all_three_tables_and_differences_in_any_are_found_and_repaired_from_the_legacy_side()
    {
        var (db, engine) = await SeededAsync();
        await using var _ = db;
        await engine.MoveAsync(M, Stage.DualWrite);

        var run = await engine.BackfillAsync(M);

        Assert.Equal((600L, 600L), (run.Progress.RowsScanned, run.Progress.RowsCopied));
        Assert.Equal((600L, 400L, 200L), (await CountAsync(db, "content_queue"), await CountAsync(db, "posted_content"), await CountAsync(db, "engagement_metrics")));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM engagement_metrics WHERE retweets IS NULL"));
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);

        var ids = await db.QueryAsync<Guid>("SELECT decision_id FROM posted_decisions p WHERE EXISTS (SELECT 1 FROM outcomes o WHERE o.decision_id = p.decision_id) ORDER BY 1 LIMIT 4");
        await db.ExecuteBehindTheTriggersAsync("DELETE FROM posted_content WHERE decision_id = @id", new { id = ids[0] });
        await db.ExecuteBehindTheTriggersAsync("UPDATE engagement_metrics SET likes = likes + 1 WHERE decision_id = @id", new { id = ids[1] });
        await db.ExecuteBehindTheTriggersAsync("UPDATE content_metadata SET content = 'edited' WHERE decision_id = @id", new { id = ids[2] });
        await db.ExecuteBehindTheTriggersAsync("DELETE FROM content_queue WHERE decision_id = @id", new { id = ids[3] });
        var extra = Guid.NewGuid();
        await db.ExecuteBehindTheTriggersAsync("INSERT INTO content_queue (decision_id, content) VALUES (@extra, 'stray')", new { extra });

        var report = await engine.ParityAsync(M);

        // A decision is missing only when the new side has none of its rows: ids[3] keeps its post and metrics.
        Assert.Empty(report.MissingKeys);
        Assert.Equal([extra.ToString()], report.ExtraKeys);
        Assert.Equal(ids.Select(i => i.ToString()).Order(), report.DifferentKeys.Order());
        Assert.Equal(5, (await engine.RepairAsync(M)).KeysFixed);
        Assert.Equal("edited", await db.ScalarAsync<string>("SELECT content FROM content_queue WHERE decision_id = @id", new { id = ids[2] }));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM posted_content WHERE decision_id = @id", new { id = ids[0] }));
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task The_bots_inserts_updates_and_deletes_on_all_three_tables_are_mirrored_in_their_transaction()
    {
        var (db, engine) = await SeededAsync(60);
        await using var _ = db;
        await engine.MoveAsync(M, Stage.DualWrite);
        Assert.Equal(12L, await db.ScalarAsync<long>(Triggers));
        await engine.BackfillAsync(M);
        var id = Guid.NewGuid();

        // The plan's flow: generate, post, scrape; then a re-scrape, and a rolled-back writer.
        await db.ExecuteAsync("INSERT INTO content_metadata (decision_id, content) VALUES (@id, 'fresh take')", new { id });
        await db.ExecuteAsync("""
            INSERT INTO posted_decisions (decision_id, tweet_id, content) VALUES (@id, '42', 'fresh take');
            UPDATE content_metadata SET status = 'posted', updated_at = now() WHERE decision_id = @id;
            INSERT INTO outcomes (decision_id, tweet_id, likes) VALUES (@id, '42', 3);
            """, new { id });
        await db.ExecuteAsync("UPDATE outcomes SET likes = likes + 10, impressions = 500 WHERE decision_id = @id", new { id });
        await db.ExecuteAsync("BEGIN; INSERT INTO content_metadata (content) VALUES ('never'); ROLLBACK;");

        Assert.Equal("posted", await db.ScalarAsync<string>("SELECT status FROM content_queue WHERE decision_id = @id", new { id }));
        Assert.Equal("42", await db.ScalarAsync<string>("SELECT tweet_id FROM posted_content WHERE decision_id = @id", new { id }));
        Assert.Equal((13, 0, 500), Assert.Single(await db.QueryAsync<(int, int, int)>("SELECT likes, retweets, impressions FROM engagement_metrics WHERE decision_id = @id", new { id })));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM content_queue WHERE content = 'never'"));
        await engine.AssertCleanAsync(M);

        await db.ExecuteAsync("DELETE FROM outcomes WHERE decision_id = @id; DELETE FROM posted_decisions WHERE decision_id = @id; DELETE FROM content_metadata WHERE decision_id = @id", new { id });
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT (SELECT count(*) FROM content_queue WHERE decision_id = @id) + (SELECT count(*) FROM posted_content WHERE decision_id = @id) + (SELECT count(*) FROM engagement_metrics WHERE decision_id = @id)", new { id }));
        await db.ExecuteAsync("TRUNCATE outcomes");
        Assert.Equal(0L, await CountAsync(db, "engagement_metrics"));
        await engine.AssertCleanAsync(M);
    }

    [Fact]
    public async Task Rules_fire_on_bad_rows_an_error_blocks_the_gate_and_reset_redoes_the_backfill_up_to_shadow()
    {
        var (db, engine) = await SeededAsync(120);
        await using var _ = db;
        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);
        var queued = await db.ScalarAsync<Guid>("SELECT decision_id FROM content_metadata WHERE status = 'queued' LIMIT 1");
        await db.ExecuteAsync("INSERT INTO posted_decisions (decision_id, tweet_id, content) VALUES (@queued, '7', 'dup')", new { queued });
        await db.ExecuteAsync("UPDATE outcomes SET likes = -1 WHERE decision_id = (SELECT min(decision_id::text)::uuid FROM outcomes)");

        var report = await engine.ParityAsync(M);

        Assert.True(report.Equal);
        Assert.Equal(1, report.Validation.Single(r => r.Name == "posted_but_not_marked_posted").Violations);
        Assert.Equal(1, report.Validation.Single(r => r.Name == "negative_engagement").Violations);
        var gate = await engine.StageAsync(M, Stage.Live);
        Assert.Contains("posted_but_not_marked_posted (1", Assert.Single(gate.FailedGates), StringComparison.Ordinal);

        await db.ExecuteAsync("UPDATE content_metadata SET status = 'posted' WHERE decision_id = @queued", new { queued });
        var reset = await OpsCommand.RunAsync(db.ConnectionString, "reset", M.Name);
        Assert.True(reset.Exit == 0, reset.Err);
        Assert.Equal(0L, await CountAsync(db, "content_queue") + await CountAsync(db, "posted_content") + await CountAsync(db, "engagement_metrics"));
        Assert.Equal(12L, await db.ScalarAsync<long>(Triggers));
        await engine.BackfillAsync(M);
        await engine.AssertCleanAsync(M);
        await engine.MoveAsync(M, Stage.Live);
        var refused = await OpsCommand.RunAsync(db.ConnectionString, "reset", M.Name);
        Assert.Equal(1, refused.Exit);
        Assert.NotEqual(0L, await CountAsync(db, "content_queue"));
    }

    [Fact]
    public async Task Off_to_complete_cut_over_to_the_plans_views_and_back_keeps_every_row()
    {
        var (db, engine) = await SeededAsync(300);
        await using var _ = db;
        const string OldQuery = """
            SELECT count(*) || '/' || sum(o.likes) FROM content_metadata c JOIN posted_decisions p USING (decision_id)
              LEFT JOIN outcomes o USING (decision_id) WHERE c.status = 'posted'
            """;
        const string Columns = "SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, ordinal_position) FROM information_schema.columns WHERE table_name IN ('content_metadata', 'posted_decisions', 'outcomes')";
        var columns = await db.ScalarAsync<string>(Columns);

        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        await ToCompleteAsync(engine);
        await db.ExecuteAsync("UPDATE outcomes SET likes = coalesce(likes, 0)");
        var answer = await db.ScalarAsync<string>(OldQuery);

        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);

        Assert.Equal("v,v,v", await db.ScalarAsync<string>("SELECT string_agg(relkind::text, ',') FROM pg_class WHERE relname IN ('content_metadata', 'posted_decisions', 'outcomes')"));
        Assert.Equal(0L, await db.ScalarAsync<long>(Triggers));
        Assert.Equal(columns, await db.ScalarAsync<string>(Columns));
        Assert.Equal(answer, await db.ScalarAsync<string>(OldQuery));
        // The bot keeps writing the old names; the views take it to the new tables.
        var id = Guid.NewGuid();
        await db.ExecuteAsync("""
            INSERT INTO content_metadata (decision_id, content, decision_type, status) VALUES (@id, 'via view', 'single', 'posted');
            INSERT INTO posted_decisions (decision_id, tweet_id, content) VALUES (@id, '99', 'via view');
            """, new { id });
        Assert.Equal("99", await db.ScalarAsync<string>("SELECT tweet_id FROM posted_content WHERE decision_id = @id", new { id }));

        await engine.Cutover.RollBackAsync(M, CancellationToken.None);

        Assert.Equal("r,r,r", await db.ScalarAsync<string>("SELECT string_agg(relkind::text, ',') FROM pg_class WHERE relname IN ('content_metadata', 'posted_decisions', 'outcomes')"));
        Assert.Equal(12L, await db.ScalarAsync<long>(Triggers));
        Assert.Equal("via view", await db.ScalarAsync<string>("SELECT content FROM content_metadata WHERE decision_id = @id", new { id }));
        Assert.Equal(columns, await db.ScalarAsync<string>(Columns));
        await engine.AssertCleanAsync(M);
        foreach (var stage in new[] { Stage.Rampdown, Stage.Live, Stage.Shadow, Stage.DualWrite, Stage.Off })
        {
            await engine.MoveAsync(M, stage);
        }
        Assert.Equal(0L, await db.ScalarAsync<long>(Triggers));
    }

    private static Task<long> CountAsync(TestDatabase db, string table, Guid id) =>
        db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE decision_id = @id", new { id });

    /// <summary>From a finished backfill at dual_write to complete, clean at every step.</summary>
    private static async Task ToCompleteAsync(Engine engine)
    {
        foreach (var stage in new[] { Stage.Shadow, Stage.Live, Stage.Rampdown, Stage.Complete })
        {
            await engine.AssertCleanAsync(M);
            await engine.MoveAsync(M, stage);
        }
    }

    [Fact]
    public async Task Posts_and_outcomes_without_a_queue_row_are_backfilled_compared_and_survive_the_cut_over_and_rollback()
    {
        var (db, engine) = await SeededAsync(60);
        await using var _ = db;
        var (post, outcome, missed) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        // Left by the bot's jobs before the migration: a post and an outcome of decisions content_metadata never had.
        await db.ExecuteAsync("""
            INSERT INTO posted_decisions (decision_id, tweet_id, content) VALUES (@post, 'orphan-post', 'only here');
            INSERT INTO outcomes (decision_id, tweet_id, likes) VALUES (@outcome, 'orphan-outcome', 7);
            """, new { post, outcome });
        await engine.MoveAsync(M, Stage.DualWrite);

        var run = await engine.BackfillAsync(M);

        Assert.Equal(62L, run.Progress.RowsScanned);
        Assert.Equal("only here", await db.ScalarAsync<string>("SELECT content FROM posted_content WHERE decision_id = @post", new { post }));
        Assert.Equal(7, await db.ScalarAsync<int>("SELECT likes FROM engagement_metrics WHERE decision_id = @outcome", new { outcome }));
        var report = await engine.ParityAsync(M);
        Assert.True(report.Clean);
        Assert.Equal(62L, report.RowsCompared);
        var warning = report.Validation.Single(r => r.Name == "posts_without_queued_content");
        Assert.Equal((1L, "warning"), (warning.Violations, warning.Severity));
        // Parity covers them: a lost orphan post and a changed orphan outcome are found and repaired.
        await db.ExecuteBehindTheTriggersAsync("DELETE FROM posted_content WHERE decision_id = @post", new { post });
        await db.ExecuteBehindTheTriggersAsync("UPDATE engagement_metrics SET likes = 8 WHERE decision_id = @outcome", new { outcome });
        report = await engine.ParityAsync(M);
        Assert.Equal([post.ToString()], report.MissingKeys);
        Assert.Equal([outcome.ToString()], report.DifferentKeys);
        Assert.Equal(2, (await engine.RepairAsync(M)).KeysFixed);
        await ToCompleteAsync(engine);
        // A post the capture never saw (written behind the triggers): the cut-over copies it before the rename.
        await db.ExecuteBehindTheTriggersAsync("INSERT INTO posted_decisions (decision_id, tweet_id, content) VALUES (@missed, 'missed', 'late')", new { missed });

        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);

        Assert.Equal(1L, await CountAsync(db, "posted_content", missed));
        // The bot deletes an outcome through the view: the rollback takes that delete along, and nothing else.
        var deleted = await db.ScalarAsync<Guid>("SELECT decision_id FROM outcomes WHERE decision_id <> @outcome ORDER BY decision_id LIMIT 1", new { outcome });
        await db.ExecuteAsync("DELETE FROM outcomes WHERE decision_id = @deleted", new { deleted });
        // A row only the old side has while cut over (nothing copied it): the rollback keeps it.
        var stray = Guid.NewGuid();
        await db.ExecuteAsync("INSERT INTO outcomes_backup (decision_id, tweet_id, likes) VALUES (@stray, 'stray', 1)", new { stray });
        var truncate = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecuteAsync("TRUNCATE engagement_metrics"));
        Assert.Equal("engagement_metrics cannot be truncated while content-queue is cut over", truncate.MessageText.Split(" (")[0]);

        await engine.Cutover.RollBackAsync(M, CancellationToken.None);

        Assert.Equal((1L, 1L, 1L, 0L, 1L), (await CountAsync(db, "posted_decisions", post), await CountAsync(db, "outcomes", outcome),
            await CountAsync(db, "posted_decisions", missed), await CountAsync(db, "outcomes", deleted), await CountAsync(db, "outcomes", stray)));
        Assert.Equal(7, await db.ScalarAsync<int>("SELECT likes FROM outcomes WHERE decision_id = @outcome", new { outcome }));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cutover_deletes"));
        Assert.Equal([stray.ToString()], (await engine.ParityAsync(M)).MissingKeys);
        Assert.Equal(1, (await engine.RepairAsync(M)).KeysFixed);
        await engine.AssertCleanAsync(M);
        await db.ExecuteAsync("TRUNCATE engagement_metrics");
    }

    [Fact]
    public async Task Cleanup_needs_a_clean_report_from_before_the_cut_over_and_archives_all_three_legacy_tables()
    {
        var (db, engine) = await SeededAsync(60);
        await using var _ = db;
        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        await ToCompleteAsync(engine);
        var archive = new Archive(db.DataSource, engine.Flags);
        // The last report before the cut-over finds a difference; after it there is no old side to compare.
        var drifted = await db.ScalarAsync<Guid>("SELECT decision_id FROM content_queue ORDER BY decision_id LIMIT 1");
        await db.ExecuteBehindTheTriggersAsync("UPDATE content_queue SET content = 'drift' WHERE decision_id = @drifted", new { drifted });
        Assert.False((await engine.ParityAsync(M)).Clean);
        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);
        await Assert.ThrowsAsync<ParityNotApplicableException>(() => engine.ParityAsync(M));

        var refused = await Assert.ThrowsAsync<CutoverRefusedException>(() => archive.RunAsync(M, "test", CancellationToken.None));

        Assert.Contains("last parity report before the cut-over", refused.Message, StringComparison.Ordinal);
        Assert.Contains("0 missing, 0 extra, 1 different", refused.Message, StringComparison.Ordinal);
        await engine.Cutover.RollBackAsync(M, CancellationToken.None);
        await engine.AssertCleanAsync(M);
        await engine.Cutover.CutOverAsync(M, "test", CancellationToken.None);
        var rows = await db.ScalarAsync<string>("SELECT (SELECT count(*) FROM content_metadata) || '/' || (SELECT count(*) FROM posted_decisions) || '/' || (SELECT count(*) FROM outcomes)");
        Assert.Equal(9L, await db.ScalarAsync<long>(CutoverTriggers));

        var done = await archive.RunAsync(M, "test", CancellationToken.None);

        Assert.Equal("content_metadata_archived, posted_decisions_archived, outcomes_archived", done.ArchivedAs);
        Assert.Equal(rows, await db.ScalarAsync<string>("SELECT (SELECT count(*) FROM content_metadata_archived) || '/' || (SELECT count(*) FROM posted_decisions_archived) || '/' || (SELECT count(*) FROM outcomes_archived)"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_index WHERE indrelid::regclass::text IN ('content_metadata_archived', 'posted_decisions_archived', 'outcomes_archived')"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_backup'"));
        Assert.Equal("v,v,v", await db.ScalarAsync<string>("SELECT string_agg(relkind::text, ',') FROM pg_class WHERE relname IN ('content_metadata', 'posted_decisions', 'outcomes')"));
        // No rollback is left to record deletes for, nor to refuse TRUNCATE for.
        Assert.Equal(0L, await db.ScalarAsync<long>(CutoverTriggers));
        await db.ExecuteAsync("DELETE FROM outcomes WHERE decision_id = (SELECT min(decision_id::text)::uuid FROM engagement_metrics)");
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cutover_deletes"));
        await db.ExecuteAsync("TRUNCATE engagement_metrics");
    }
}
