using System.Text.Json;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Tests.Cli;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Views;

/// <summary>demo-data and refresh-views, run as the operator runs them.</summary>
public sealed class ViewVerbsTests
{
    // Usage errors and --help never reach the database.
    private const string NeverOpened = "Host=127.0.0.1;Database=never_opened";

    private static Task<(int Exit, string Out, string Err)> RunAsync(TestDatabase db, params string[] args) =>
        OpsCommand.RunAsync(db.ConnectionString, args);

    [Fact]
    public async Task Demo_data_fills_the_legacy_tables_with_journeys_a_funnel_skewed_popularity_and_120_days()
    {
        await using var db = await TestDatabase.CreateAsync();

        var (exit, output, error) = await RunAsync(db, "demo-data", "--rows", "20000", "--seed", "7", "--articles", "100");

        Assert.True(exit == 0, error);
        Assert.Matches(@"blog_attribution_events +20,000 / 20,000 rows", output);
        Assert.Contains("Seed 7.", output, StringComparison.Ordinal);
        Assert.Equal(20_000L, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events"));

        // Journeys: several events per session; most carry a signal_id, the rest only their session.
        var perSession = await db.ScalarAsync<double>("SELECT count(*)::float8 / count(DISTINCT session_id) FROM blog_attribution_events");
        Assert.InRange(perSession, 2.5, 5);
        var tagged = await db.ScalarAsync<double>("SELECT avg((metadata ? 'signal_id')::int) FROM blog_attribution_events");
        Assert.InRange(tagged, 0.75, 0.95);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE session_id IS NULL"));
        // A signal_id belongs to one session.
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM (SELECT metadata ->> 'signal_id' FROM blog_attribution_events WHERE metadata ? 'signal_id'
                                   GROUP BY 1 HAVING count(DISTINCT session_id) > 1) x
            """));

        // The funnel: every type, each step rarer than the one before.
        var types = (await db.QueryAsync<(string Type, long Count)>(
            "SELECT event_type, count(*) FROM blog_attribution_events GROUP BY 1")).ToDictionary(r => r.Type, r => r.Count);
        Assert.True(types["impression"] > types["click"] && types["click"] > types["save"] && types["save"] > types["convert"] && types["convert"] > 0,
            string.Join(", ", types));
        Assert.True(types["refer"] > 0);
        Assert.Equal(
            ["article_header", "cta_button", "floating_save", "inline_link", "listing_grid", "tutor_carousel", "tutor_embed"],
            await db.QueryAsync<string>("SELECT DISTINCT source_component FROM blog_attribution_events ORDER BY 1"));

        // Skewed popularity: the top tenth of the articles has most of the traffic.
        var top = await db.ScalarAsync<double>("""
            SELECT sum(n) FILTER (WHERE rank <= 10)::float8 / sum(n)
              FROM (SELECT count(*) AS n, rank() OVER (ORDER BY count(*) DESC) AS rank FROM blog_attribution_events GROUP BY blog_article_id) x
            """);
        Assert.InRange(top, 0.45, 0.8);
        Assert.InRange(await db.ScalarAsync<long>("SELECT count(DISTINCT blog_article_id) FROM blog_attribution_events"), 90, 100);

        // Spread over the last 120 days, nothing in the future.
        var spread = await db.QueryAsync<(DateTime Oldest, DateTime Newest, long Days)>("""
            SELECT min(created_at), max(created_at), count(DISTINCT (created_at AT TIME ZONE 'UTC')::date) FROM blog_attribution_events
            """);
        var (oldest, newest, days) = spread.Single();
        Assert.InRange(oldest, DateTime.UtcNow.AddDays(-120.1), DateTime.UtcNow.AddDays(-115));
        Assert.InRange(newest, DateTime.UtcNow.AddDays(-5), DateTime.UtcNow);
        Assert.InRange(days, 118, 121);

        // The other legacy tables, plausible and within their constraints.
        Assert.Equal(100L * 120, await db.ScalarAsync<long>("SELECT count(*) FROM blog_article_metrics"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM blog_article_metrics WHERE page_views <= 0 OR unique_visitors > page_views OR bounce_rate NOT BETWEEN 0 AND 100"));
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM (SELECT article_id, count(*) AS n FROM blog_listing_links GROUP BY 1) x WHERE n NOT BETWEEN 2 AND 6
            """));
        Assert.Equal(100L, await db.ScalarAsync<long>("SELECT count(DISTINCT article_id) FROM blog_listing_links"));
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM blog_article_saves") > 0);
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM blog_article_saves s
             WHERE NOT EXISTS (SELECT FROM blog_attribution_events e
                                WHERE e.blog_article_id = s.article_id AND e.user_id = s.user_id AND e.event_type = 'save')
            """));
        var clicks = (await db.QueryAsync<(long All, long Tagged, long Qualified, long WellScored)>("""
            SELECT count(*), count(*) FILTER (WHERE utm_source IS NOT NULL AND utm_medium IS NOT NULL AND utm_campaign IS NOT NULL),
                   count(*) FILTER (WHERE qualified), count(*) FILTER (WHERE qualified AND score >= 60)
              FROM cuft_click_tracking
            """)).Single();
        Assert.Equal(2000L, clicks.All);
        Assert.InRange(clicks.Tagged, 1400, 1800);
        Assert.InRange(clicks.Qualified, 150, 350);
        Assert.Equal(clicks.Qualified, clicks.WellScored);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE date_updated < date_created"));
        // The older half of the days are legacy clicks, without a chronology; the newer half have the one
        // ingest records, of every type, a lead exactly where the click is qualified.
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM cuft_click_tracking
             WHERE CASE WHEN events IS NULL THEN date_created > now() - interval '59 days' ELSE date_created < now() - interval '61 days' END
            """));
        Assert.InRange(await db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking WHERE events IS NOT NULL"), 800, 1200);
        Assert.Equal(
            ["email_click", "form_submit", "generate_lead", "phone_click", "status_update"],
            await db.QueryAsync<string>("SELECT DISTINCT e ->> 'event' FROM cuft_click_tracking, jsonb_array_elements(events) e ORDER BY 1"));
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM cuft_click_tracking WHERE events IS NOT NULL AND qualified <> (events @> '[{"event": "generate_lead"}]')
            """));
        // Between the click's creation and its last update (event times are stamped to the millisecond).
        Assert.True(await db.ScalarAsync<bool>("SELECT bool_and(last_activity_at <= date_updated AND last_activity_at > date_created - interval '1 millisecond') FROM cuft_click_tracking"));
        // The click-events migration takes them as they are: its backfill rebuilds the legacy ones, and they agree.
        var engine = new Engine(db);
        Assert.Equal("complete", (await engine.BackfillAsync(ClickEventsMigration.Declaration)).Outcome);
        await engine.AssertCleanAsync(ClickEventsMigration.Declaration);
    }

    [Fact]
    public async Task Demo_data_run_twice_adds_more_rows_and_the_same_seed_repeats_the_shape()
    {
        await using var db = await TestDatabase.CreateAsync();

        var first = await RunAsync(db, "demo-data", "--rows", "5000", "--seed", "11", "--articles", "40", "--clicks", "300");
        var second = await RunAsync(db, "demo-data", "--rows", "5000", "--seed", "11", "--articles", "40", "--clicks", "300");

        Assert.True(first.Exit == 0 && second.Exit == 0, first.Err + second.Err);
        Assert.Equal(10_000L, await db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events"));
        Assert.Equal(600L, await db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking"));
        Assert.Equal(40L * 120, await db.ScalarAsync<long>("SELECT count(*) FROM blog_article_metrics"));
        Assert.Contains("0 new, 4,800 days topped up", second.Out, StringComparison.Ordinal);
        // Same seed: per run, the same number of events per article and type; but no shared journey.
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM (
              SELECT blog_article_id, event_type, count(*) FILTER (WHERE run = 1) AS a, count(*) FILTER (WHERE run = 2) AS b
                FROM (SELECT *, dense_rank() OVER (ORDER BY metadata ->> 'demo_run') AS run FROM blog_attribution_events) e
               GROUP BY 1, 2) x
             WHERE a <> b
            """));
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM (SELECT session_id FROM blog_attribution_events GROUP BY 1 HAVING count(DISTINCT metadata ->> 'demo_run') > 1) x
            """));
    }

    [Fact]
    public async Task Refresh_views_is_full_the_first_time_incremental_after_and_full_on_request()
    {
        await using var db = await TestDatabase.CreateAsync();
        Assert.Equal(0, (await RunAsync(db, "demo-data", "--rows", "3000", "--seed", "3")).Exit);
        Assert.Equal("complete", (await new Engine(db).BackfillAsync(SignalEventsMigration.Declaration)).Outcome);

        var first = await RunAsync(db, "refresh-views");
        var second = await RunAsync(db, "refresh-views", "--json");
        var full = await RunAsync(db, "refresh-views", "--full");

        Assert.Equal((0, 0, 0), (first.Exit, second.Exit, full.Exit));
        Assert.StartsWith("signal_daily_rollup: full (first refresh), ", first.Out, StringComparison.Ordinal);
        // One entry per declared view, in catalog order: the rollup, then the brand view.
        var views = JsonDocument.Parse(second.Out).RootElement.GetProperty("views");
        Assert.Equal(["signal_daily_rollup", "mv_brand_daily_metrics"], views.EnumerateArray().Select(v => v.GetProperty("view").GetString()));
        Assert.Equal("incremental", views[0].GetProperty("mode").GetString());
        Assert.True(views[0].GetProperty("elapsed_ms").GetDouble() > 0);
        Assert.Contains("mv_brand_daily_metrics: refreshed concurrently", first.Out, StringComparison.Ordinal);
        Assert.Matches(@"^signal_daily_rollup: full \(requested\), [\d,]+ buckets, [\d,]+ rows, 0 written, 0 removed, in \d+ ms", full.Out);
        Assert.Equal(3000L, await db.ScalarAsync<long>("SELECT sum(events) FROM signal_daily_rollup WHERE event_type = 'all'"));
    }

    [Theory]
    [InlineData("demo-data")]
    [InlineData("demo-data", "--rows", "0")]
    [InlineData("demo-data", "--rows", "many")]
    [InlineData("demo-data", "--rows", "10", "--days", "0")]
    [InlineData("demo-data", "--rows", "10", "--clicks", "-1")]
    [InlineData("refresh-views", "--fast")]
    public async Task A_wrong_argument_prints_what_is_wrong_and_exits_2(params string[] args)
    {
        var (exit, _, error) = await OpsCommand.RunAsync(NeverOpened, args);

        Assert.Equal(2, exit);
        Assert.Contains("--help", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("demo-data", "--help")]
    [InlineData("refresh-views", "--help")]
    public async Task Both_verbs_have_help(params string[] args)
    {
        var (exit, output, _) = await OpsCommand.RunAsync(NeverOpened, args);

        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
    }
}
