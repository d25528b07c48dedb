using System.Globalization;
using System.Net;
using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;
using static SignalFunctions.Tests.Views.RollupKit;

namespace SignalFunctions.Tests.Views;

/// <summary>Random journeys on a few contents over ten days, refreshed once, for every report test of the class.</summary>
public sealed class ReportsFixture : AppFixture
{
    public Guid[] Contents { get; } = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();

    public async Task SeedAsync()
    {
        if (await Db.ScalarAsync<long>("SELECT count(*) FROM signal_events") > 0)
        {
            return;
        }
        var random = new Random(20250301);
        var journeys = Enumerable.Range(0, 120).Select(_ => Guid.NewGuid()).ToArray();
        // Weighted like a funnel, so every step has journeys and the rates are not trivial.
        string[] types = ["impression", "impression", "impression", "impression", "click", "click", "save", "refer", "convert"];
        await InsertAsync(Db, Enumerable.Range(0, 3000).Select(_ => Event(
            journeys[random.Next(journeys.Length)], Contents[random.Next(Contents.Length)], types[random.Next(types.Length)],
            At(FirstDay.AddDays(random.Next(10)), random.NextDouble() * 24))).ToList());
        await Rollup(Db.DataSource).RefreshAsync(full: false, CancellationToken.None);
    }
}

/// <summary>GET /api/reports/…: numbers against SQL written by hand over signal_events, and precise 400s.</summary>
public sealed class ReportsApiTests(ReportsFixture fixture) : IClassFixture<ReportsFixture>
{
    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static readonly DateOnly From = FirstDay.AddDays(2);
    private static readonly DateOnly To = FirstDay.AddDays(6);

    private async Task<JsonElement> GetOkAsync(string path)
    {
        await fixture.SeedAsync();
        using var response = await fixture.App.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    // Per UTC day: events, distinct journeys, and journeys with a convert on the same content that day
    // (EXISTS, where the rollup's own definition joins), then summed over the days of the range.
    private const string HandCountsSql = """
        SELECT coalesce(event_type, 'all') AS type, sum(events)::bigint AS events, sum(signals)::bigint AS signals,
               sum(conversions)::bigint AS conversions
          FROM (SELECT (created_at AT TIME ZONE 'UTC')::date AS day, e.content_id, t.event_type, count(*) AS events,
                       count(DISTINCT e.signal_id) AS signals,
                       count(DISTINCT e.signal_id) FILTER (WHERE EXISTS (
                         SELECT FROM signal_events c
                          WHERE c.content_id = e.content_id AND c.signal_id = e.signal_id AND c.event_type = 'convert'
                            AND (c.created_at AT TIME ZONE 'UTC')::date = (e.created_at AT TIME ZONE 'UTC')::date)) AS conversions
                  FROM signal_events e
                 CROSS JOIN LATERAL (VALUES (e.event_type), (NULL)) AS t (event_type)
                 WHERE (@content::uuid IS NULL OR e.content_id = @content::uuid)
                   AND e.created_at >= @from AND e.created_at < @to
                 GROUP BY 1, 2, 3) per_day
         GROUP BY event_type
        """;

    private async Task<Dictionary<string, (long Events, long Signals, long Conversions)>> HandCountsAsync(Guid? content, DateOnly from, DateOnly to) =>
        (await fixture.Db.QueryAsync<(string Type, long Events, long Signals, long Conversions)>(HandCountsSql, new
        {
            content,
            from = At(from, 0),
            to = At(to.AddDays(1), 0),
        })).ToDictionary(r => r.Type, r => (r.Events, r.Signals, r.Conversions));

    private static (long, long, long) Counts(JsonElement e) =>
        (e.GetProperty("events").GetInt64(), e.GetProperty("signals").GetInt64(), e.GetProperty("conversions").GetInt64());

    [Fact]
    public async Task Content_report_matches_counts_computed_by_hand_from_signal_events()
    {
        var content = fixture.Contents[1];

        var report = await GetOkAsync($"/api/reports/content/{content}?from={Day(From)}&to={Day(To)}");
        var hand = await HandCountsAsync(content, From, To);

        Assert.Equal(content.ToString(), report.GetProperty("content_id").GetString());
        Assert.Equal((Day(From), Day(To)), (report.GetProperty("from").GetString(), report.GetProperty("to").GetString()));
        Assert.Equal(JsonValueKind.String, report.GetProperty("refreshed_at").ValueKind);
        Assert.Equal(hand["all"], Counts(report));
        foreach (var type in EventTypes)
        {
            Assert.Equal(hand.GetValueOrDefault(type), Counts(report.GetProperty("by_event_type").GetProperty(type)));
        }
        Assert.Equal(Math.Round((double)hand["all"].Conversions / hand["all"].Signals, 4), report.GetProperty("conversion_rate").GetDouble());

        var days = report.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => Day(From.AddDays(i))), days.Select(d => d.GetProperty("day").GetString()));
        foreach (var day in days)
        {
            var date = DateOnly.ParseExact(day.GetProperty("day").GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            var that = await HandCountsAsync(content, date, date);
            Assert.Equal(that["all"], Counts(day));
            Assert.Equal(that.GetValueOrDefault("click").Events, day.GetProperty("events_by_type").GetProperty("click").GetInt64());
        }
    }

    [Fact]
    public async Task Funnel_matches_journeys_counted_by_hand_with_step_rates()
    {
        var funnel = await GetOkAsync($"/api/reports/funnel?from={Day(From)}&to={Day(To)}");
        var hand = await HandCountsAsync(null, From, To);

        var steps = funnel.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["impression", "click", "save", "convert"], steps.Select(s => s.GetProperty("event_type").GetString()));
        for (var i = 0; i < steps.Count; i++)
        {
            var expected = hand[steps[i].GetProperty("event_type").GetString()!];
            Assert.Equal((expected.Events, expected.Signals), (steps[i].GetProperty("events").GetInt64(), steps[i].GetProperty("signals").GetInt64()));
            var first = hand["impression"].Signals;
            Assert.Equal(Math.Round((double)expected.Signals / first, 4), steps[i].GetProperty("rate_from_first").GetDouble());
            if (i == 0)
            {
                Assert.Equal(JsonValueKind.Null, steps[i].GetProperty("rate_from_previous").ValueKind);
            }
            else
            {
                var previous = steps[i - 1].GetProperty("signals").GetInt64();
                Assert.Equal(Math.Round((double)expected.Signals / previous, 4), steps[i].GetProperty("rate_from_previous").GetDouble());
            }
        }
    }

    [Fact]
    public async Task A_content_without_events_gets_zeros_for_every_day_of_a_full_leap_year()
    {
        var report = await GetOkAsync($"/api/reports/content/{Guid.NewGuid()}?from=2024-01-01&to=2024-12-31");

        Assert.Equal((0L, 0L, 0L), Counts(report));
        Assert.Equal(JsonValueKind.Null, report.GetProperty("conversion_rate").ValueKind);
        Assert.Equal(366, report.GetProperty("days").GetArrayLength());
        Assert.All(report.GetProperty("days").EnumerateArray(), d => Assert.Equal((0L, 0L, 0L), Counts(d)));
    }

    [Theory]
    [InlineData("/api/reports/content/not-a-uuid?from=2025-01-01&to=2025-01-31", "content_id", "must be a UUID")]
    [InlineData("/api/reports/content/9f1c2d3e-4b5a-4c6d-8e7f-001122334455?to=2025-01-31", "from", "is required")]
    [InlineData("/api/reports/content/9f1c2d3e-4b5a-4c6d-8e7f-001122334455?from=2025-01-01&to=", "to", "is required")]
    [InlineData("/api/reports/content/9f1c2d3e-4b5a-4c6d-8e7f-001122334455?from=2025-13-01&to=2025-12-31", "from", "must be a UTC day as yyyy-MM-dd")]
    [InlineData("/api/reports/content/9f1c2d3e-4b5a-4c6d-8e7f-001122334455?from=2025-1-5&to=2025-12-31", "from", "got '2025-1-5'")]
    [InlineData("/api/reports/content/9f1c2d3e-4b5a-4c6d-8e7f-001122334455?from=2025-01-01T00:00:00Z&to=2025-12-31", "from", "must be a UTC day")]
    [InlineData("/api/reports/funnel?from=2025-02-01&to=2025-01-31", "to", "must not be before from (2025-02-01)")]
    [InlineData("/api/reports/funnel?from=2024-01-01&to=2025-01-01", "to", "is 367 days; ask for at most 366 days")]
    [InlineData("/api/reports/funnel?from=2025-01-01&from=2025-01-02&to=2025-01-31", "from", "more than once")]
    [InlineData("/api/reports/funnel", "to", "is required")]
    public async Task An_invalid_report_request_gets_a_400_problem_naming_the_field(string path, string field, string message)
    {
        using var response = await fixture.App.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("The report request is invalid.", problem.GetProperty("title").GetString());
        var errors = problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_invalid_field_is_listed_at_once()
    {
        using var response = await fixture.App.Client.GetAsync("/api/reports/content/42?from=yesterday");

        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["content_id", "from", "to"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Reports_answer_503_with_retry_after_when_the_database_is_down()
    {
        await using var cluster = await PostgresCluster.StartNewAsync();
        var db = await TestDatabase.CreateAsync(cluster.AdminConnectionString);
        try
        {
            await using var app = await AppProcess.StartAsync(db.ConnectionString);
            await cluster.StopAsync();

            using var response = await app.Client.GetAsync($"/api/reports/funnel?from={Day(From)}&to={Day(To)}");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.RetryAfter);
        }
        finally
        {
            await db.DisposeAsync();
        }
    }
}
