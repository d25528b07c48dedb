using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Migrations;

/// <summary>/api/health per side of every migration: the blue-green plan's "old system down is critical, new system down is a warning".</summary>
public sealed class SideHealthTests
{
    /// <summary>The report whatever the status code (503 when unhealthy).</summary>
    private static async Task<System.Text.Json.JsonElement> HealthAsync(AppProcess app)
    {
        using var response = await app.Client.GetAsync("/api/health");
        return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
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
        await db.ExecuteAsync("ALTER TABLE engagement_metrics_away RENAME TO engagement_metrics");

        // Old side down: critical, and the instance reports itself unhealthy.
        await db.ExecuteAsync("ALTER TABLE posted_decisions RENAME TO posted_decisions_away");
        var critical = await HealthAsync(app);
        queue = critical.GetProperty("migrations").GetProperty(KnownMigrations.ContentQueue);
        Assert.Equal("unhealthy", critical.GetProperty("status").GetString());
        Assert.Equal("critical", queue.GetProperty("level").GetString());
        Assert.Equal("posted_decisions", queue.GetProperty("legacy").GetProperty("unreachable")[0].GetString());
        Assert.Equal("ok", critical.GetProperty("migrations").GetProperty(KnownMigrations.IntelligenceEvents).GetProperty("level").GetString());
    }
}
