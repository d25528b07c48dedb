using SignalFunctions.Demo;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>
/// Legacy rows the new schema refuses (a CHECK, an unreadable timestamp) fail their backfill batch
/// on every run: the backfill stalls there and says which error rule names the rows; parity
/// reports the rule; once the rows are fixed, the backfill goes on. And the rules no other test fires.
/// </summary>
public sealed class BadLegacyRowTests
{
    private static async Task AssertStalledOnAsync(Engine engine, DataMigration m, string rule)
    {
        var stalled = await engine.BackfillAsync(m);
        Assert.StartsWith("stalled: the batch after key", stalled.Outcome, StringComparison.Ordinal);
        Assert.Contains($"error rules firing: {rule} (1)", stalled.Outcome, StringComparison.Ordinal);
        Assert.False(stalled.Progress.Completed);
        var report = await engine.ParityAsync(m);
        var fired = report.Validation.Single(r => r.Name == rule);
        Assert.Equal((1L, "error"), (fired.Violations, fired.Severity));
        Assert.False(report.Clean);
    }

    [Fact]
    public async Task A_decision_type_content_queue_refuses_stalls_the_backfill_on_a_named_rule_until_it_is_fixed()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync(PlanLegacyTables.ContentSql, new { run = "", rows = 80 });
        var engine = new Engine(db);
        var m = ContentQueueMigration.Declaration;
        var poll = await db.ScalarAsync<Guid>("INSERT INTO content_metadata (content, decision_type) VALUES ('which one?', 'poll') RETURNING decision_id");
        await engine.MoveAsync(m, Stage.DualWrite);

        await AssertStalledOnAsync(engine, m, "unmappable_decisions");

        await db.ExecuteAsync("UPDATE content_metadata SET decision_type = 'single' WHERE decision_id = @poll", new { poll });
        Assert.Equal("complete", (await engine.BackfillAsync(m)).Outcome);
        await engine.AssertCleanAsync(m);
    }

    [Fact]
    public async Task A_post_dated_in_the_future_fires_future_dated_posts_and_holds_the_gate_past_shadow()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync(PlanLegacyTables.ContentSql, new { run = "", rows = 40 });
        var engine = new Engine(db);
        var m = ContentQueueMigration.Declaration;
        await engine.MoveAsync(m, Stage.DualWrite);
        await engine.BackfillAsync(m);
        await engine.AssertCleanAsync(m);
        await engine.MoveAsync(m, Stage.Shadow);
        // The bot's clock is a day ahead: the capture copies the post as it is.
        await db.ExecuteAsync("""
            WITH d AS (INSERT INTO content_metadata (content, status) VALUES ('tomorrow', 'posted') RETURNING decision_id)
            INSERT INTO posted_decisions (decision_id, tweet_id, content, posted_at) SELECT decision_id, '77', 'tomorrow', now() + interval '1 day' FROM d
            """);

        var report = await engine.ParityAsync(m);

        Assert.True(report.Equal);
        var rule = report.Validation.Single(r => r.Name == "future_dated_posts");
        Assert.Equal((1L, "error"), (rule.Violations, rule.Severity));
        Assert.Contains("future_dated_posts (1", Assert.Single((await engine.StageAsync(m, Stage.Live)).FailedGates), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sentiment_label_the_star_schema_refuses_stalls_the_backfill_on_a_named_rule_until_it_is_fixed()
    {
        await using var db = await BrandMetricsMigrationTests.SeededAsync(60);
        var engine = new Engine(db);
        var m = BrandMetricsMigration.Declaration;
        var id = await db.ScalarAsync<long>("""
            UPDATE extracted_positions SET sentiment_label = 'positive'
             WHERE id = (SELECT min(id) FROM extracted_positions WHERE competitor_name IS NULL AND sentiment_label IS NOT NULL)
            RETURNING id
            """);
        await engine.MoveAsync(m, Stage.DualWrite);

        await AssertStalledOnAsync(engine, m, "unmappable_sentiment_labels");

        await db.ExecuteAsync("UPDATE extracted_positions SET sentiment_label = 'POSITIVE' WHERE id = @id", new { id });
        Assert.Equal("complete", (await engine.BackfillAsync(m)).Outcome);
        await engine.AssertCleanAsync(m);
    }

    [Fact]
    public async Task Competitor_rows_without_their_brand_row_are_an_error_that_holds_the_gate_past_shadow()
    {
        await using var db = await BrandMetricsMigrationTests.SeededAsync(60);
        var engine = new Engine(db);
        var m = BrandMetricsMigration.Declaration;
        var result = await db.ScalarAsync<long>("SELECT min(collector_result_id) FROM extracted_positions WHERE competitor_name IS NOT NULL");
        var competitors = await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE collector_result_id = @result AND competitor_name IS NOT NULL", new { result });
        // The scoring service lost the brand row of one collector result, before the migration.
        await db.ExecuteAsync("DELETE FROM extracted_positions WHERE collector_result_id = @result AND competitor_name IS NULL", new { result });
        await engine.MoveAsync(m, Stage.DualWrite);
        Assert.Equal("complete", (await engine.BackfillAsync(m)).Outcome);
        await engine.MoveAsync(m, Stage.Shadow);

        var report = await engine.ParityAsync(m);

        Assert.True(report.Equal);
        var rule = report.Validation.Single(r => r.Name == "competitor_rows_without_brand_row");
        Assert.Equal((competitors, "error"), (rule.Violations, rule.Severity));
        Assert.False(report.Clean);
        await engine.RefreshViewsAsync();
        Assert.Contains("competitor_rows_without_brand_row", Assert.Single((await engine.StageAsync(m, Stage.Live)).FailedGates), StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM metric_facts WHERE collector_result_id = @result", new { result }));
    }

    [Fact]
    public async Task An_agent_task_with_an_unreadable_completed_at_stalls_the_backfill_on_a_named_rule_until_it_is_fixed()
    {
        var (db, engine) = await IntelligenceEventsMigrationTests.SeededAsync(20);
        await using var _ = db;
        var m = IntelligenceEventsMigration.Declaration;
        var id = await db.ScalarAsync<Guid>("""
            INSERT INTO campaigns (tenant_id, name, metadata)
            VALUES ('tenant-0', 'broken log', '{"agentTasks": [{"taskId": "t1", "success": true, "completedAt": "not a date"}]}')
            RETURNING id
            """);
        await engine.MoveAsync(m, Stage.DualWrite);

        var stalled = await engine.BackfillAsync(m);

        Assert.StartsWith("stalled: the batch after key", stalled.Outcome, StringComparison.Ordinal);
        Assert.Contains("error rules firing: unreadable_task_timestamps (1)", stalled.Outcome, StringComparison.Ordinal);
        await db.ExecuteAsync("""
            UPDATE campaigns SET metadata = jsonb_set(metadata, '{agentTasks,0,completedAt}', to_jsonb(now()::text)) WHERE id = @id
            """, new { id });
        Assert.Equal("complete", (await engine.BackfillAsync(m)).Outcome);
        await engine.AssertCleanAsync(m);
    }
}
