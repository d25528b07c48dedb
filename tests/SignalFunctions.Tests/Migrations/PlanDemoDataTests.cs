using System.Globalization;
using System.Text.RegularExpressions;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>demo-data fills the legacy tables of intelligence-events and content-queue, and the migrations backfill it cleanly.</summary>
public sealed class PlanDemoDataTests
{
    [Fact]
    public async Task Demo_data_fills_the_intelligence_and_content_legacy_tables_adds_on_a_rerun_and_both_migrations_backfill_it_cleanly()
    {
        await using var db = await TestDatabase.CreateAsync();
        string[] args = ["demo-data", "--rows", "500", "--positions", "0", "--seed", "5", "--campaigns", "240", "--decisions", "300"];

        var first = await OpsCommand.RunAsync(db.ConnectionString, args);
        var second = await OpsCommand.RunAsync(db.ConnectionString, args);

        Assert.True(first.Exit == 0 && second.Exit == 0, first.Err + second.Err);
        Assert.Matches(@"campaigns +240 new", second.Out);
        Assert.Contains("240 campaigns, 300 content decisions", second.Out, StringComparison.Ordinal);
        // A second run adds: its own ids, no collision.
        Assert.Equal((480L, 600L, 400L, 200L), (await db.ScalarAsync<long>("SELECT count(*) FROM campaigns"),
            await db.ScalarAsync<long>("SELECT count(*) FROM content_metadata"), await db.ScalarAsync<long>("SELECT count(*) FROM posted_decisions"),
            await db.ScalarAsync<long>("SELECT count(*) FROM outcomes")));
        // Campaigns over all 120 days, so the 90-day window leaves a quarter out; none in the future.
        var spread = Assert.Single(await db.QueryAsync<(long Days, long Older, long Future)>("""
            SELECT count(DISTINCT date_trunc('day', now() - created_at)), count(*) FILTER (WHERE created_at < now() - interval '90 days'),
                   count(*) FILTER (WHERE created_at > now())
              FROM campaigns
            """));
        Assert.Equal((120L, 120L, 0L), spread);
        // Agent task logs with failures, assets with publish jobs, some without impressions; KPI snapshots per tenant, metric and day.
        Assert.Equal(2L * 240 * 6 / 4, await db.ScalarAsync<long>("SELECT count(*) FROM campaigns, jsonb_array_elements(metadata -> 'agentTasks')"));
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM campaigns, jsonb_array_elements(metadata -> 'agentTasks') t WHERE t -> 'success' = 'false'") > 0);
        Assert.Equal(2L * 2 * 200, await db.ScalarAsync<long>("SELECT count(*) FROM publish_jobs p JOIN assets a ON a.id = p.asset_id"));
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM publish_jobs WHERE impressions = 0") > 0);
        Assert.Equal(2L * 120 * 3 * 4, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_snapshots"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_snapshots WHERE metric_value < 0"));

        var engine = new Engine(db);
        foreach (var m in new[] { IntelligenceEventsMigration.Declaration, KpiHistoryMigration.Declaration, ContentQueueMigration.Declaration })
        {
            await engine.MoveAsync(m, Stage.DualWrite);
            Assert.Equal("complete", (await engine.BackfillAsync(m)).Outcome);
            await engine.AssertCleanAsync(m);
        }
        Assert.Equal(2L * 180, await db.ScalarAsync<long>("SELECT count(*) FROM campaigns WHERE created_at >= now() - interval '90 days'"));
        Assert.Equal(await db.ScalarAsync<long>("""
            SELECT count(*) FROM campaigns, jsonb_array_elements(metadata -> 'agentTasks') WHERE created_at >= now() - interval '90 days'
            """), await db.ScalarAsync<long>("SELECT count(*) FROM intelligence_events"));
        Assert.Equal(2L * 90 * 3 * 4, await db.ScalarAsync<long>("SELECT count(*) FROM kpi_history"));
        Assert.Equal((600L, 400L, 200L), (await db.ScalarAsync<long>("SELECT count(*) FROM content_queue"),
            await db.ScalarAsync<long>("SELECT count(*) FROM posted_content"), await db.ScalarAsync<long>("SELECT count(*) FROM engagement_metrics")));
    }

    [Fact]
    public async Task Demo_data_positions_fills_the_brand_monolith_through_the_cli_and_brand_metrics_backfills_it_cleanly()
    {
        await using var db = await TestDatabase.CreateAsync();

        var run = await OpsCommand.RunAsync(db.ConnectionString,
            "demo-data", "--rows", "50", "--positions", "800", "--brands", "5", "--seed", "3", "--campaigns", "0", "--decisions", "0");

        Assert.True(run.Exit == 0, run.Err);
        var line = Regex.Match(run.Out, @"extracted_positions +([\d,]+) new \(([\d,]+) collector results of 5 brands\)");
        Assert.True(line.Success, run.Out);
        var (positions, results) = (long.Parse(line.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture),
            long.Parse(line.Groups[2].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture));
        Assert.Equal((positions, results, results), (await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions"),
            await db.ScalarAsync<long>("SELECT count(DISTINCT collector_result_id) FROM extracted_positions"),
            await db.ScalarAsync<long>("SELECT count(*) FROM extracted_positions WHERE competitor_name IS NULL")));
        Assert.InRange(positions, 400, 1200);
        // Five brands of 3 to 6 competitors each; every competitor row names one of them; sentiment on some rows only.
        Assert.Equal(5L, await db.ScalarAsync<long>("SELECT count(*) FROM brands"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM (SELECT brand_id FROM brand_competitors GROUP BY 1 HAVING count(*) NOT BETWEEN 3 AND 6) x"));
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM extracted_positions e WHERE e.competitor_name IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM brand_competitors bc WHERE bc.brand_id = e.brand_id AND bc.competitor_name = e.competitor_name)
            """));
        Assert.Equal((true, true), Assert.Single(await db.QueryAsync<(bool, bool)>(
            "SELECT bool_or(sentiment_label IS NOT NULL), bool_or(sentiment_label IS NULL) FROM extracted_positions WHERE competitor_name IS NULL")));
        Assert.Equal(results, await db.ScalarAsync<long>("SELECT count(*) FROM collector_results"));

        var engine = new Engine(db);
        var m = BrandMetricsMigration.Declaration;
        await engine.MoveAsync(m, Stage.DualWrite);
        Assert.Equal("complete", (await engine.BackfillAsync(m)).Outcome);
        await engine.AssertCleanAsync(m);
        Assert.Equal(results, await db.ScalarAsync<long>("SELECT count(*) FROM metric_facts"));
        Assert.Equal(positions - results, await db.ScalarAsync<long>("SELECT count(*) FROM competitor_metrics"));
    }
}
