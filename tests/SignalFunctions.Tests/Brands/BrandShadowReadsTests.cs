using System.Net;
using System.Text.Json;
using SignalFunctions.Demo;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Brands;

/// <summary>Every read compared (ComparePercent 100).</summary>
public sealed class CompareAllFixture : AppFixture
{
    protected override IDictionary<string, string> Settings => new Dictionary<string, string> { ["Reads__ComparePercent"] = "100" };
}

/// <summary>No read compared (ComparePercent 0).</summary>
public sealed class CompareNoneFixture : AppFixture
{
    protected override IDictionary<string, string> Settings => new Dictionary<string, string> { ["Reads__ComparePercent"] = "0" };
}

/// <summary>What the brand reads of one app do at a stage: the shared steps of the shadow-read tests.</summary>
internal sealed class BrandReads(AppFixture fixture)
{
    public static readonly string From = DateTime.UtcNow.AddDays(-31).ToString("yyyy-MM-dd");
    public static readonly string To = DateTime.UtcNow.ToString("yyyy-MM-dd");

    /// <summary>Demo brands, backfilled into the star schema and the view refreshed: both sides answer alike.</summary>
    public async Task<Guid> BackfilledBrandAsync()
    {
        await using (var connection = await fixture.Db.DataSource.OpenConnectionAsync())
        {
            await BrandPositions.FillAsync(connection, brands: 2, results: 300, days: 30, seed: 5, CancellationToken.None);
        }
        await new Engine(fixture.Db).BackfillAsync(BrandMetricsMigration.Declaration);
        await RefreshViewAsync();
        return await fixture.Db.ScalarAsync<Guid>("SELECT brand_id FROM extracted_positions GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1");
    }

    public Task RefreshViewAsync() => fixture.Db.ExecuteAsync(
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv_brand_daily_metrics; UPDATE view_refreshes SET refreshed_at = now() WHERE view_name = 'mv_brand_daily_metrics'");

    public Task StageAsync(Stage stage) => fixture.Db.SetStageAndWaitAsync(fixture.App, KnownMigrations.BrandMetrics, stage.Name());

    public async Task<JsonElement> DailyAsync(Guid brand, string query = "")
    {
        using var response = await fixture.App.Client.GetAsync($"/api/reports/brands/{brand}/daily?from={From}&to={To}{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<(long Compared, long Mismatches, string? Last)> ComparisonsAsync()
    {
        var health = await fixture.App.HealthAsync();
        return health.GetProperty("read_comparisons").TryGetProperty(KnownMigrations.BrandMetrics, out var c)
            ? (c.GetProperty("compared").GetInt64(), c.GetProperty("mismatches").GetInt64(), c.GetProperty("last_mismatch").GetString())
            : (0, 0, null);
    }
}

/// <summary>brand-metrics at shadow: the legacy side serves, the view is read beside it and compared.</summary>
public sealed class BrandShadowReadsTests(CompareAllFixture fixture) : IClassFixture<CompareAllFixture>
{
    [Fact]
    public async Task At_shadow_the_legacy_side_serves_both_are_compared_and_an_injected_mismatch_is_counted_and_logged_with_both_answers()
    {
        var reads = new BrandReads(fixture);
        var brand = await reads.BackfilledBrandAsync();
        await reads.StageAsync(Stage.Shadow);

        var clean = await reads.DailyAsync(brand);
        Assert.Equal(("shadow", "legacy", true), (clean.GetProperty("stage").GetString(), clean.GetProperty("served_from").GetString(), clean.GetProperty("compared").GetBoolean()));
        Assert.Equal((1L, 0L), ((await reads.ComparisonsAsync()).Compared, (await reads.ComparisonsAsync()).Mismatches));

        // One old day differs in the star schema (written past the capture), and the view is refreshed with it.
        var (day, collector) = Assert.Single(await fixture.Db.QueryAsync<(DateTime, string)>("""
            WITH changed AS (
              UPDATE brand_metrics SET visibility_index = 0
               WHERE metric_fact_id = (SELECT id FROM metric_facts WHERE brand_id = @brand AND processed_at < now() - interval '3 days' ORDER BY id LIMIT 1)
              RETURNING metric_fact_id)
            SELECT (processed_at AT TIME ZONE 'UTC')::date, collector_type FROM metric_facts WHERE id = (SELECT metric_fact_id FROM changed)
            """, new { brand }));
        await reads.RefreshViewAsync();
        var served = await reads.DailyAsync(brand);

        // The reader still gets the legacy answer, unchanged; the difference is counted and shown with both sides.
        Assert.Equal(clean.GetProperty("days").GetRawText(), served.GetProperty("days").GetRawText());
        var (compared, mismatches, last) = await reads.ComparisonsAsync();
        Assert.Equal((2L, 1L), (compared, mismatches));
        Assert.NotNull(last);
        Assert.Contains($"brand {brand:D}", last, StringComparison.Ordinal);
        var legacy = last[(last.IndexOf("legacy [", StringComparison.Ordinal) + 7)..last.IndexOf(" new [", StringComparison.Ordinal)];
        var fresh = last[(last.IndexOf(" new [", StringComparison.Ordinal) + 5)..];
        string Visibility(string json) => JsonDocument.Parse(json).RootElement.EnumerateArray()
            .Where(d => d.GetProperty("metric_date").GetString() == day.ToString("yyyy-MM-dd") && d.GetProperty("collector_type").GetString() == collector)
            .Select(d => d.GetProperty("avg_visibility").GetRawText()).Single();
        Assert.NotEqual(Visibility(legacy), Visibility(fresh));
        Assert.Contains("Shadow read of brand-metrics differs", fixture.App.Output, StringComparison.Ordinal);
        Assert.Contains($"brand {brand:D}", fixture.App.Output, StringComparison.Ordinal);
    }
}

/// <summary>ComparePercent 0: no read is ever compared, at shadow or live.</summary>
public sealed class BrandNoCompareReadsTests(CompareNoneFixture fixture) : IClassFixture<CompareNoneFixture>
{
    [Fact]
    public async Task With_ComparePercent_0_no_read_is_compared_at_any_stage()
    {
        var reads = new BrandReads(fixture);
        var brand = await reads.BackfilledBrandAsync();
        foreach (var stage in new[] { Stage.Shadow, Stage.Live })
        {
            await reads.StageAsync(stage);
            for (var i = 0; i < 25; i++)
            {
                var daily = await reads.DailyAsync(brand);
                Assert.False(daily.GetProperty("compared").GetBoolean());
                Assert.Equal(stage.ReadSide().Name(), daily.GetProperty("served_from").GetString());
            }
        }
        Assert.Equal((0L, 0L), ((await reads.ComparisonsAsync()).Compared, (await reads.ComparisonsAsync()).Mismatches));
        Assert.DoesNotContain("Shadow read of brand-metrics", fixture.App.Output, StringComparison.Ordinal);
    }
}
