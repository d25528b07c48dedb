using SignalFunctions.Health;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>/api/health/details per side of every migration: the blue-green plan's "old system down is critical, new system down is a warning".</summary>
public sealed class SideHealthTests
{
    /// <summary>The report whatever the status code (503 when unhealthy).</summary>
    private static async Task<System.Text.Json.JsonElement> HealthAsync(AppProcess app)
    {
        using var response = await app.Client.GetAsync("/api/health/details");
        return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The anonymous probe: its status code and its whole body.</summary>
    private static async Task<(System.Net.HttpStatusCode Status, string Body)> LivenessAsync(AppProcess app)
    {
        using var response = await app.Client.GetAsync("/api/health");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Each_side_reports_reachability_recent_errors_and_parity_age_and_only_an_old_side_down_is_critical()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync(SignalFunctions.Demo.PlanLegacyTables.ContentSql, new { run = "", rows = 30 });
        var engine = new Engine(db);
        var m = ContentQueueMigration.Declaration;
        await engine.MoveAsync(m, Stage.DualWrite);
        await engine.BackfillAsync(m);
        await engine.ParityAsync(m);
        await using var app = await AppProcess.StartAsync(db.ConnectionString);

        var healthy = await HealthAsync(app);
        var queue = healthy.GetProperty("migrations").GetProperty(KnownMigrations.ContentQueue);
        Assert.True(healthy.GetProperty("status").GetString() == "healthy", healthy.ToString());
        Assert.Equal("ok", queue.GetProperty("level").GetString());
        Assert.True(queue.GetProperty("legacy").GetProperty("reachable").GetBoolean());
        Assert.True(queue.GetProperty("new").GetProperty("reachable").GetBoolean());
        Assert.InRange(queue.GetProperty("parity_age_seconds").GetDouble(), 0, 600);
        Assert.Equal(0, queue.GetProperty("new").GetProperty("recent_errors").GetInt64());
        // Existing fields stay.
        Assert.Equal(0, queue.GetProperty("new").GetProperty("write_failures").GetInt64());

        // New side down: the bot's write stands, queued for repair; a warning, not an outage.
        await db.ExecuteAsync("ALTER TABLE engagement_metrics RENAME TO engagement_metrics_away");
        await db.ExecuteAsync("INSERT INTO outcomes (decision_id, likes) VALUES (gen_random_uuid(), 1)");
        var warned = await HealthAsync(app);
        queue = warned.GetProperty("migrations").GetProperty(KnownMigrations.ContentQueue);
        Assert.Equal("degraded", warned.GetProperty("status").GetString());
        Assert.Equal("warning", queue.GetProperty("level").GetString());
        Assert.False(queue.GetProperty("new").GetProperty("reachable").GetBoolean());
        Assert.Equal("engagement_metrics", queue.GetProperty("new").GetProperty("unreachable")[0].GetString());
        Assert.Equal(1, queue.GetProperty("new").GetProperty("recent_errors").GetInt64());
        // Degraded is still up: the probe tells a load balancer whether to send traffic, nothing more.
        Assert.Equal((System.Net.HttpStatusCode.OK, """{"status":"up"}"""), await LivenessAsync(app));
        await db.ExecuteAsync("ALTER TABLE engagement_metrics_away RENAME TO engagement_metrics");

        // Old side down: critical, and the instance reports itself unhealthy.
        await db.ExecuteAsync("ALTER TABLE posted_decisions RENAME TO posted_decisions_away");
        var critical = await HealthAsync(app);
        queue = critical.GetProperty("migrations").GetProperty(KnownMigrations.ContentQueue);
        Assert.Equal("unhealthy", critical.GetProperty("status").GetString());
        Assert.Equal("critical", queue.GetProperty("level").GetString());
        Assert.Equal("posted_decisions", queue.GetProperty("legacy").GetProperty("unreachable")[0].GetString());
        Assert.Equal("ok", critical.GetProperty("migrations").GetProperty(KnownMigrations.IntelligenceEvents).GetProperty("level").GetString());
        // Down, and not a word of which table or why.
        Assert.Equal((System.Net.HttpStatusCode.ServiceUnavailable, """{"status":"down"}"""), await LivenessAsync(app));
    }

    [Theory]
    [InlineData("off", 100, false, "legacy")]
    [InlineData("dual_write", 100, false, "legacy")]
    [InlineData("shadow", 100, false, "legacy")]
    [InlineData("live", 100, false, "new")]
    [InlineData("live", 30, false, "legacy,new")]
    [InlineData("rampdown", 100, false, "new")]
    [InlineData("complete", 100, false, "new")]
    [InlineData("complete", 100, true, "new")]
    public void From_live_the_new_side_is_critical_and_before_it_the_old_one(string stage, int percent, bool cutOver, string critical)
    {
        Assert.True(StageRules.TryParse(stage, out var parsed));
        var flag = new StageFlag("signal-events", parsed, percent, 1, DateTimeOffset.UtcNow);
        Assert.Equal(critical, string.Join(",", HealthApi.CriticalSides(SignalEventsMigration.Declaration, flag, cutOver).Select(s => s.Name())));
        // Outside writers keep writing the old table until the cut-over: it stays critical for them.
        var captured = HealthApi.CriticalSides(BrandMetricsMigration.Declaration, flag, cutOver).Select(s => s.Name());
        Assert.Equal(cutOver ? "new" : parsed >= Stage.Live ? "legacy,new" : "legacy", string.Join(",", captured));
    }

    [Fact]
    public async Task Brand_metrics_reports_its_five_tables_and_view_and_after_the_cut_over_its_new_side_down_is_critical()
    {
        await using var db = await BrandMetricsMigrationTests.SeededAsync(60, brands: 2);
        var engine = new Engine(db);
        var m = BrandMetricsMigration.Declaration;
        await engine.BackfillAsync(m);
        await db.SetStageAsync(m.Name, "dual_write");
        await using var app = await AppProcess.StartAsync(db.ConnectionString);
        async Task<System.Text.Json.JsonElement> BrandAsync() => (await HealthAsync(app)).GetProperty("migrations").GetProperty(KnownMigrations.BrandMetrics);
        async Task AtAsync(string stage)
        {
            await db.SetStageAsync(m.Name, stage);
            Assert.True(await app.WaitForStageAsync(m.Name, stage, TimeSpan.FromSeconds(5)) < TimeSpan.FromSeconds(5));
        }
        await app.WaitForStageAsync(m.Name, "dual_write", TimeSpan.FromSeconds(5));

        // Before live: the plan's rule, a star table down is a warning.
        await db.ExecuteAsync("ALTER TABLE brand_sentiment RENAME TO brand_sentiment_away");
        var early = await BrandAsync();
        Assert.Equal(("warning", "[\"legacy\"]"), (early.GetProperty("level").GetString(), early.GetProperty("critical_sides").GetRawText()));
        Assert.Equal(["brand_sentiment"], early.GetProperty("new").GetProperty("unreachable").EnumerateArray().Select(t => t.GetString()));

        // Live: the new side is read and authoritative.
        await AtAsync("live");
        var live = await BrandAsync();
        Assert.Equal(("critical", "[\"legacy\",\"new\"]"), (live.GetProperty("level").GetString(), live.GetProperty("critical_sides").GetRawText()));
        await db.ExecuteAsync("ALTER TABLE brand_sentiment_away RENAME TO brand_sentiment");
        Assert.Equal("ok", (await BrandAsync()).GetProperty("level").GetString());

        // Cut over: the new side alone is authoritative; the view the dashboard reads counts as the new side.
        await AtAsync("complete");
        await engine.Cutover.CutOverAsync(m, "test", CancellationToken.None);
        await db.ExecuteAsync("ALTER MATERIALIZED VIEW mv_brand_daily_metrics RENAME TO mv_brand_daily_metrics_away");
        var cut = await BrandAsync();
        Assert.Equal(("critical", "[\"new\"]", true),
            (cut.GetProperty("level").GetString(), cut.GetProperty("critical_sides").GetRawText(), cut.GetProperty("cut_over").GetBoolean()));
        Assert.Equal(["mv_brand_daily_metrics"], cut.GetProperty("new").GetProperty("unreachable").EnumerateArray().Select(t => t.GetString()));
        await db.ExecuteAsync("ALTER MATERIALIZED VIEW mv_brand_daily_metrics_away RENAME TO mv_brand_daily_metrics");
        // The old name, a view now, down: nothing relies on it but old readers, a warning.
        await db.ExecuteAsync("ALTER VIEW extracted_positions RENAME TO extracted_positions_away");
        Assert.Equal("warning", (await BrandAsync()).GetProperty("level").GetString());
    }
}
