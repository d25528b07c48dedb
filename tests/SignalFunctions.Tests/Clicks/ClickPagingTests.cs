using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Clicks;

/// <summary>
/// GET /api/clicks against clicks whose chronologies the test wrote itself, so it knows each one's
/// last activity and types without asking the database how it computes them: every filter and both
/// orders, page after page, give each selected click once, in order, none missing.
/// </summary>
public sealed class ClickPagingTests(ClickPagingTests.Seeded fixture) : IClassFixture<ClickPagingTests.Seeded>
{
    public static readonly string[] Types = ["phone_click", "email_click", "form_submit", "generate_lead"];

    /// <param name="LastActivity">The newest well-formed event's time, else date_updated: what the test expects, computed here.</param>
    public sealed record SeededClick(long Id, string ClickId, IReadOnlySet<string> Types, DateTime LastActivity);

    public sealed class Seeded : IAsyncLifetime
    {
        public TestDatabase Db { get; private set; } = null!;
        public AppProcess App { get; private set; } = null!;
        public List<SeededClick> Clicks { get; } = [];
        public DateTime Now { get; } = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

        public async Task InitializeAsync()
        {
            Db = await TestDatabase.CreateAsync();
            var random = new Random(14);
            await using (var connection = await Db.DataSource.OpenConnectionAsync())
            await using (var tx = await connection.BeginTransactionAsync())
            {
                for (var id = 1L; id <= 300; id++)
                {
                    var updated = Now.AddMinutes(-random.Next(0, 60 * 24 * 60));
                    var entries = new List<(string Event, string Stamp)>();
                    var chronology = id % 13 == 0 ? null : new List<object>();
                    var newest = (DateTime?)null;
                    for (var k = random.Next(0, 5); chronology is not null && k > 0; k--)
                    {
                        var type = random.Next(10) == 0 ? "status_update" : Types[random.Next(Types.Length)];
                        // Ties: every tenth click shares the previous one's times exactly.
                        var at = id % 10 == 0 && Clicks.Count > 0 ? Clicks[^1].LastActivity : Now.AddMilliseconds(-random.NextInt64(0, 60L * 24 * 3600 * 1000));
                        chronology.Add(new { @event = type, timestamp = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) });
                        entries.Add((type, ""));
                        newest = newest is null || at > newest ? at : newest;
                    }
                    if (chronology is not null && id % 7 == 0)
                    {
                        // Timestamps that are no time at all never count, and never fail the write.
                        chronology.Add(new { @event = "form_submit", timestamp = "2026-02-30T10:00:00.000Z" });
                        chronology.Add(new { @event = "form_submit", timestamp = "yesterday" });
                        entries.Add(("form_submit", ""));
                    }
                    var clickId = $"page-{id:000}";
                    await connection.ExecuteAsync("""
                        INSERT INTO cuft_click_tracking (id, click_id, events, date_created, date_updated)
                        VALUES (@id, @clickId, @events::jsonb, @updated - interval '1 day', @updated)
                        """, new { id, clickId, events = chronology is null ? null : JsonSerializer.Serialize(chronology), updated }, tx);
                    Clicks.Add(new SeededClick(id, clickId, entries.Select(e => e.Event).ToHashSet(), newest ?? updated));
                }
                // Ids were given: the identity goes on after them.
                await connection.ExecuteAsync("SELECT setval(pg_get_serial_sequence('cuft_click_tracking', 'id'), 1000)", transaction: tx);
                await tx.CommitAsync();
            }
            App = await AppProcess.StartAsync(Db.ConnectionString);
        }

        public async Task DisposeAsync()
        {
            await App.DisposeAsync();
            await Db.DisposeAsync();
        }
    }

    private List<SeededClick> Expected(string[] types, DateTime? from, DateTime? to, bool ascending)
    {
        var selected = fixture.Clicks.Where(c =>
            (types.Length == 0 || c.Types.Overlaps(types)) && (from is null || c.LastActivity >= from) && (to is null || c.LastActivity < to));
        return ascending
            ? [.. selected.OrderBy(c => c.LastActivity).ThenBy(c => c.Id)]
            : [.. selected.OrderByDescending(c => c.LastActivity).ThenByDescending(c => c.Id)];
    }

    /// <summary>Every page from the first until next is null; the clicks in the order served.</summary>
    private async Task<List<JsonElement>> AllPagesAsync(string query, int limit, Func<int, Task>? afterPage = null)
    {
        var clicks = new List<JsonElement>();
        string? after = null;
        for (var page = 1; ; page++)
        {
            var url = $"/api/clicks?{query}&limit={limit}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
            var body = await fixture.App.Client.GetFromJsonAsync<JsonElement>(url);
            var rows = body.GetProperty("clicks").EnumerateArray().ToList();
            Assert.True(rows.Count <= limit, $"page {page} has {rows.Count} rows");
            clicks.AddRange(rows);
            after = body.GetProperty("next").GetString();
            if (after is null)
            {
                return clicks;
            }
            Assert.Equal(limit, rows.Count);
            if (afterPage is not null)
            {
                await afterPage(page);
            }
        }
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("", true)]
    [InlineData("phone_click", false)]
    [InlineData("generate_lead", true)]
    [InlineData("email_click,generate_lead", false)]
    [InlineData("form_submit&event_type=phone_click", true)]
    public async Task Pages_list_each_selected_click_once_in_order(string types, bool ascending)
    {
        var typeList = types.Replace("&event_type=", ",", StringComparison.Ordinal).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var query = (types.Length == 0 ? "" : $"event_type={types}") + (ascending ? "&sort=last_activity_asc" : "");

        var served = await AllPagesAsync(query, limit: 17);

        var expected = Expected(typeList, null, null, ascending);
        Assert.Equal(expected.Select(c => c.ClickId), served.Select(c => c.GetProperty("click_id").GetString()));
        Assert.Equal(expected.Select(c => c.LastActivity), served.Select(c => c.GetProperty("last_activity").GetDateTime().ToUniversalTime()));
        Assert.True(expected.Count > 17 * 2, $"only {expected.Count} clicks selected: too few pages to prove paging");
    }

    [Fact]
    public async Task A_date_range_selects_by_last_activity_from_inclusive_to_exclusive()
    {
        // Bounds on exact last activities, the tie included: one is in, the other out.
        var sorted = fixture.Clicks.OrderBy(c => c.LastActivity).ToList();
        var from = sorted[40].LastActivity;
        var to = sorted[200].LastActivity;
        var stamp = (DateTime t) => Uri.EscapeDataString(t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

        var served = await AllPagesAsync($"last_activity_from={stamp(from)}&last_activity_to={stamp(to)}&event_type=phone_click,email_click", limit: 9);

        var expected = Expected(["phone_click", "email_click"], from, to, ascending: false);
        Assert.Equal(expected.Select(c => c.ClickId), served.Select(c => c.GetProperty("click_id").GetString()));
        Assert.Contains(expected, c => c.LastActivity == from);

        // A day is its midnight UTC.
        var day = DateOnly.FromDateTime(sorted[150].LastActivity);
        var dayServed = await AllPagesAsync($"last_activity_from={day:yyyy-MM-dd}&last_activity_to={day.AddDays(1):yyyy-MM-dd}", limit: 50);
        Assert.Equal(
            Expected([], day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), false).Select(c => c.ClickId),
            dayServed.Select(c => c.GetProperty("click_id").GetString()));
    }

    [Fact]
    public async Task Clicks_written_while_paging_neither_shift_nor_repeat_the_pages_after()
    {
        var expected = Expected([], null, null, ascending: false);
        var written = new List<string>();

        var served = await AllPagesAsync("", limit: 25, afterPage: async page =>
        {
            // New activity lands before the cursor: it belongs to a page already read.
            var clickId = $"late-{page}";
            written.Add(clickId);
            await fixture.Db.ExecuteAsync(
                "INSERT INTO cuft_click_tracking (click_id, events) VALUES (@clickId, jsonb_build_array(jsonb_build_object('event', 'phone_click', 'timestamp', '2026-03-02T00:00:00.000Z')))",
                new { clickId });
        });

        try
        {
            Assert.Equal(expected.Select(c => c.ClickId), served.Select(c => c.GetProperty("click_id").GetString()));
        }
        finally
        {
            await fixture.Db.ExecuteAsync("DELETE FROM cuft_click_tracking WHERE click_id = ANY(@written)", new { written });
        }
    }

    [Fact]
    public async Task A_click_shows_its_columns_and_its_chronology_as_recorded()
    {
        var body = await fixture.App.Client.GetFromJsonAsync<JsonElement>("/api/clicks?limit=500");
        var clicks = body.GetProperty("clicks").EnumerateArray().ToList();
        Assert.Equal(300, clicks.Count);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("next").ValueKind);

        // Every entry as stored, the ones with timestamps that are no time included.
        var withBadStamps = clicks.Single(c => c.GetProperty("click_id").GetString() == "page-007");
        Assert.True(await fixture.Db.ScalarAsync<bool>("SELECT events = @served::jsonb FROM cuft_click_tracking WHERE id = 7",
            new { served = withBadStamps.GetProperty("events").GetRawText() }));
        Assert.Equal(fixture.Clicks[6].LastActivity, withBadStamps.GetProperty("last_activity").GetDateTime().ToUniversalTime());
        var none = clicks.Single(c => c.GetProperty("click_id").GetString() == "page-013");
        Assert.Equal(0, none.GetProperty("events").GetArrayLength());
        Assert.Equal(fixture.Clicks[12].LastActivity, none.GetProperty("last_activity").GetDateTime().ToUniversalTime());
        Assert.Equal(
            ["click_id", "utm_medium", "utm_campaign", "utm_term", "utm_content", "qualified", "score", "date_created", "date_updated", "last_activity", "events_dropped", "events"],
            none.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("event_type=phone", "event_type")]
    [InlineData("event_type=", "event_type")]
    [InlineData("event_type=phone_click,status_update", "event_type")]
    [InlineData("last_activity_from=2026-02-30", "last_activity_from")]
    [InlineData("last_activity_from=yesterday", "last_activity_from")]
    [InlineData("last_activity_to=2026-03-01T10:00:00%2025:00", "last_activity_to")]
    [InlineData("last_activity_from=2026-03-02&last_activity_to=2026-03-01", "last_activity_to")]
    [InlineData("last_activity_from=2026-03-01&last_activity_to=2026-03-01", "last_activity_to")]
    [InlineData("sort=newest", "sort")]
    [InlineData("sort=last_activity_asc&sort=last_activity_desc", "sort")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("after=not-a-cursor", "after")]
    [InlineData("after=ZDE3OTY1OTg5OTEyNTEwMDAu", "after")]
    [InlineData("eventtype=phone_click", "eventtype")]
    public async Task A_bad_parameter_is_a_400_naming_it(string query, string field)
    {
        using var response = await fixture.App.Client.GetAsync($"/api/clicks?{query}");
        Assert.Equal([field], await response.ErrorFieldsAsync());
    }

    [Fact]
    public async Task Every_bad_parameter_is_named_at_once_and_the_export_takes_no_cursor_or_limit()
    {
        using var response = await fixture.App.Client.GetAsync("/api/clicks?event_type=x&sort=y&limit=0&last_activity_from=z&code=the-function-key");
        Assert.Equal(["event_type", "last_activity_from", "limit", "sort"], await response.ErrorFieldsAsync());

        using var export = await fixture.App.Client.GetAsync("/api/clicks/export.csv?after=x&limit=10&event_type=phone_click");
        Assert.Equal(["after", "limit"], await export.ErrorFieldsAsync());
    }

    [Fact]
    public async Task A_cursor_keeps_its_sort()
    {
        var first = await fixture.App.Client.GetFromJsonAsync<JsonElement>("/api/clicks?limit=5");
        var next = first.GetProperty("next").GetString()!;

        using var flipped = await fixture.App.Client.GetAsync($"/api/clicks?limit=5&sort=last_activity_asc&after={Uri.EscapeDataString(next)}");

        Assert.Equal(["after"], await flipped.ErrorFieldsAsync());
    }
}
