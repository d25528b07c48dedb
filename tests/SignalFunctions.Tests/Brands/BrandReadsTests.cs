using System.Net;
using System.Text.Json;
using SignalFunctions.Demo;
using SignalFunctions.Migrations.Declarations;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Brands;

/// <summary>Every read compared, and the dashboard pinned to the legacy side.</summary>
public sealed class BrandReadsFixture : AppFixture
{
    protected override IDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Reads__ComparePercent"] = "100",
        ["Reads__dashboard"] = "legacy",
    };
}

/// <summary>GET /api/reports/brands/{brandId}/daily: the side the stage reads, reader switches, the shadow comparison, precise 400s.</summary>
public sealed class BrandReadsTests(BrandReadsFixture fixture) : IClassFixture<BrandReadsFixture>
{
    private async Task<Guid> SeededBrandAsync()
    {
        if (await fixture.Db.ScalarAsync<long>("SELECT count(*) FROM brands") == 0)
        {
            await using var connection = await fixture.Db.DataSource.OpenConnectionAsync();
            await BrandPositions.FillAsync(connection, brands: 3, results: 600, days: 30, seed: 11, CancellationToken.None);
        }
        return await fixture.Db.ScalarAsync<Guid>("SELECT brand_id FROM extracted_positions GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1");
    }

    private BrandReads Reads => new(fixture);

    private Task StageAsync(Stage stage) => Reads.StageAsync(stage);

    private Task<JsonElement> DailyAsync(Guid brand, string query = "") => Reads.DailyAsync(brand, query);

    private Task<(long Compared, long Mismatches, string? Last)> ComparisonsAsync() => Reads.ComparisonsAsync();

    private Task RefreshViewAsync() => Reads.RefreshViewAsync();

    [Fact]
    public async Task The_stage_picks_the_side_a_reader_switch_overrides_it_and_the_shadow_comparison_catches_an_injected_mismatch()
    {
        var brand = await SeededBrandAsync();
        var engine = new Engine(fixture.Db);
        var m = BrandMetricsMigration.Declaration;
        await StageAsync(Stage.Off);

        var off = await DailyAsync(brand);
        Assert.Equal("legacy", off.GetProperty("served_from").GetString());
        Assert.False(off.GetProperty("compared").GetBoolean());
        var legacyDays = off.GetProperty("days").GetRawText();
        Assert.True(off.GetProperty("days").GetArrayLength() > 20);

        await engine.MoveAsync(m, Stage.DualWrite);
        await engine.BackfillAsync(m);
        await RefreshViewAsync();
        await engine.MoveAsync(m, Stage.Shadow);
        await engine.AssertCleanAsync(m);
        await engine.MoveAsync(m, Stage.Live);
        await StageAsync(Stage.Live);

        var live = await DailyAsync(brand);
        Assert.Equal("new", live.GetProperty("served_from").GetString());
        Assert.True(live.GetProperty("compared").GetBoolean());
        // Same answer from the view as from the monolith, day by day (nothing was written since the refresh).
        Assert.Equal(legacyDays, live.GetProperty("days").GetRawText());
        Assert.Equal("legacy", (await DailyAsync(brand, "&reader=dashboard")).GetProperty("served_from").GetString());
        Assert.Equal("new", (await DailyAsync(brand, "&reader=topics")).GetProperty("served_from").GetString());
        var collector = live.GetProperty("days")[0].GetProperty("collector_type").GetString();
        var one = await DailyAsync(brand, $"&collector={collector}");
        Assert.All(one.GetProperty("days").EnumerateArray(), d => Assert.Equal(collector, d.GetProperty("collector_type").GetString()));
        var clean = await ComparisonsAsync();
        Assert.True(clean.Compared >= 4);
        Assert.Equal(0, clean.Mismatches);

        // An old day differs in the new schema (written past the capture), and the view is refreshed with it.
        await fixture.Db.ExecuteAsync("""
            BEGIN;
            SET LOCAL session_replication_role = replica;
            UPDATE brand_metrics SET visibility_index = 0
             WHERE metric_fact_id = (SELECT id FROM metric_facts WHERE brand_id = @brand AND processed_at < now() - interval '3 days' ORDER BY id LIMIT 1);
            COMMIT;
            """, new { brand });
        await RefreshViewAsync();
        await DailyAsync(brand, "&reader=dashboard");

        var after = await ComparisonsAsync();
        Assert.Equal(clean.Mismatches + 1, after.Mismatches);
        Assert.Contains("legacy [", after.Last, StringComparison.Ordinal);
        Assert.Contains("new [", after.Last, StringComparison.Ordinal);
        Assert.Contains("Shadow read of brand-metrics differs", fixture.App.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-uuid", "?from=2025-01-01&to=2025-01-31", "brand_id")]
    [InlineData("{brand}", "?from=2025-01-01", "to")]
    [InlineData("{brand}", "?from=2025-02-30&to=2025-03-01", "from")]
    [InlineData("{brand}", "?from=2025-03-01&to=2025-02-01", "to")]
    [InlineData("{brand}", "?from=2024-01-01&to=2025-06-01", "to")]
    [InlineData("{brand}", "?from=2025-01-01&to=2025-01-31&collector=Chat%20GPT", "collector")]
    [InlineData("{brand}", "?from=2025-01-01&to=2025-01-31&reader=a&reader=b", "reader")]
    public async Task Bad_ids_dates_and_names_are_a_precise_400(string brandId, string query, string field)
    {
        var brand = await SeededBrandAsync();
        using var response = await fixture.App.Client.GetAsync($"/api/reports/brands/{brandId.Replace("{brand}", brand.ToString())}/daily{query}");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(field, out _), body);
    }

    [Fact]
    public async Task An_unknown_brand_is_a_404()
    {
        using var response = await fixture.App.Client.GetAsync($"/api/reports/brands/{Guid.NewGuid()}/daily?from=2025-01-01&to=2025-01-31");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
