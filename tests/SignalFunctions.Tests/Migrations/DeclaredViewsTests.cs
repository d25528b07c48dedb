using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SignalFunctions.Migrations;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;
using SignalFunctions.Views;

namespace SignalFunctions.Tests.Migrations;

/// <summary>Views a migration declares: refreshed generally, and the gate to live waits for a refresh after the last backfill batch.</summary>
public sealed class DeclaredViewsTests
{
    private static readonly DataMigration M = BrandMetricsMigration.Declaration;

    [Fact]
    public async Task Live_waits_until_the_declared_views_are_refreshed_after_the_last_backfill_batch_and_force_overrides()
    {
        await using var db = await BrandMetricsMigrationTests.SeededAsync(120, brands: 3);
        var engine = new Engine(db);
        await engine.MoveAsync(M, Stage.DualWrite);
        await engine.BackfillAsync(M);
        await engine.MoveAsync(M, Stage.Shadow);
        await engine.AssertCleanAsync(M);

        var never = await engine.StageAsync(M, Stage.Live);
        Assert.Equal(["mv_brand_daily_metrics not refreshed since the last backfill batch (run './run.sh refresh-views')"], never.FailedGates);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM mv_brand_daily_metrics"));

        var refreshed = await engine.RefreshViewsAsync();
        Assert.Equal(DeclaredViews.All.Select(v => v.Name), refreshed.Select(r => r.View));
        Assert.Equal(await db.ScalarAsync<long>("SELECT count(*) FROM metric_facts"),
            await db.ScalarAsync<long>("SELECT sum(total_responses) FROM mv_brand_daily_metrics"));

        // A batch after the refresh (a re-run after a reset): the view may lack its rows again.
        await db.ExecuteAsync("UPDATE view_refreshes SET refreshed_at = refreshed_at - interval '1 second' WHERE view_name = 'mv_brand_daily_metrics'");
        await using (var connection = await db.DataSource.OpenConnectionAsync())
        {
            await Backfill.ResetAsync(connection, M.Name, CancellationToken.None);
        }
        await engine.BackfillAsync(M);
        await engine.AssertCleanAsync(M);
        var stale = await engine.StageAsync(M, Stage.Live);
        Assert.True(stale.Refused);
        Assert.Contains(stale.FailedGates, g => g.StartsWith("mv_brand_daily_metrics not refreshed", StringComparison.Ordinal));

        var forced = await engine.Stages.ChangeAsync(M.Name, Stage.Live, 100, "test", force: true, reason: "drill", CancellationToken.None);
        Assert.True(forced.Forced);
        Assert.Contains("forced past: mv_brand_daily_metrics not refreshed", await db.ScalarAsync<string>(
            "SELECT reason FROM stage_history WHERE migration = @Name ORDER BY id DESC LIMIT 1", M), StringComparison.Ordinal);

        await engine.MoveAsync(M, Stage.Shadow);
        await engine.RefreshViewsAsync();
        await engine.MoveAsync(M, Stage.Live);
    }

    [Fact]
    public void Every_declared_rollup_has_its_refresher_registered_and_the_new_side_lists_its_views()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            [KeyValuePair.Create("ConnectionStrings:Signal", (string?)"Host=127.0.0.1;Database=never_opened")]).Build();
        using var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddSignalCore(configuration).BuildServiceProvider();
        var registered = services.GetServices<IViewRefresher>().Select(r => r.View).ToList();

        Assert.All(DeclaredViews.All.Where(v => v.Kind == ViewKind.Rollup), v => Assert.Contains(v.Name, registered));
        Assert.Contains(DailyRollup.ViewName, DeclaredViews.All.Select(v => v.Name));
        Assert.All(MigrationCatalog.All, m => Assert.All(m.Views, v => Assert.Contains(v.Name, m.TablesOf(Side.New))));
        Assert.Equal(["metric_facts", "brand_metrics", "competitor_metrics", "brand_sentiment", "competitor_sentiment", "mv_brand_daily_metrics"],
            M.TablesOf(Side.New));
    }
}
