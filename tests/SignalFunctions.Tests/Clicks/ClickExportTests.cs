using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Dapper;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Clicks;

/// <summary>
/// GET /api/clicks/export.csv on 60,000 clicks with long chronologies, and on clicks recorded
/// through ingest with values meant to hurt: the file is the database row for row, RFC 4180, with
/// nothing a spreadsheet would run; and it streams, from a query that is still running when the
/// download starts.
/// </summary>
public sealed class ClickExportTests(ClickExportTests.Seeded fixture) : IClassFixture<ClickExportTests.Seeded>
{
    public const int BulkClicks = 60_000;

    public static readonly string[] Header =
    [
        "click_id", "utm_medium", "utm_campaign", "utm_term", "utm_content", "qualified", "score", "date_created", "date_updated",
        "last_activity", "events_dropped", "events", "phone_click_at", "email_click_at", "form_submit_at", "generate_lead_at",
    ];

    public sealed class Seeded : IAsyncLifetime
    {
        public TestDatabase Db { get; private set; } = null!;
        public AppProcess App { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Db = await TestDatabase.CreateAsync();
            // At dual_write ingest records the chronology too.
            await Db.SetStageAsync("click-events", "dual_write");
            // Twenty events each: far more rows, and bytes, than the buffers between the database and the test hold.
            await Db.ExecuteAsync($"""
                INSERT INTO cuft_click_tracking (click_id, utm_campaign, qualified, score, events, date_created, date_updated)
                SELECT 'bulk-' || i, 'campaign-' || (i % 50), i % 9 = 0, i % 100,
                       (SELECT jsonb_agg(jsonb_build_object(
                                 'event', (ARRAY['phone_click', 'email_click', 'form_submit', 'generate_lead', 'status_update'])[1 + (i + k) % 5],
                                 'timestamp', to_char((timestamptz '2026-03-01 12:00:00+00' - make_interval(mins => i * 3 + k)) AT TIME ZONE 'UTC',
                                                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ORDER BY k DESC)
                          FROM generate_series(1, 20) k),
                       timestamptz '2026-03-01 12:00:00+00' - make_interval(mins => i * 3 + 30), timestamptz '2026-03-01 12:00:00+00' - make_interval(mins => i * 3)
                  FROM generate_series(1, {BulkClicks}) i
                """);
            App = await AppProcess.StartAsync(Db.ConnectionString, FaultKit.TimersOff());
            await RecordAsync("hostile-formulas", new()
            {
                ["utm_medium"] = "=HYPERLINK(\"http://evil.example\",\"open\")",
                ["utm_campaign"] = "+SUM(1,2)",
                ["utm_term"] = "-2+3",
                ["utm_content"] = "@cmd|' /C calc'!A0",
            }, "phone_click", "email_click", "form_submit", "phone_click", "generate_lead");
            await RecordAsync("hostile-text", new()
            {
                ["utm_medium"] = "\tleading tab",
                ["utm_campaign"] = "comma, \"quote\" and more",
                ["utm_term"] = "line one\nline two\r\nline three",
                ["utm_content"] = "<script>alert('x')</script><b>bold</b>",
            }, "email_click");
            await RecordAsync("no-events", new() { ["utm_campaign"] = "quiet" });
        }

        private async Task RecordAsync(string clickId, Dictionary<string, string> utm, params string[] events)
        {
            utm["click_id"] = clickId;
            using (var click = await App.PostJsonAsync("/api/clicks", JsonSerializer.Serialize(utm)))
            {
                Assert.Equal(HttpStatusCode.Accepted, click.StatusCode);
            }
            foreach (var e in events)
            {
                using var added = await App.PostJsonAsync($"/api/clicks/{clickId}/events", JsonSerializer.Serialize(new { event_type = e }));
                Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
            }
        }

        public async Task DisposeAsync()
        {
            await App.DisposeAsync();
            await Db.DisposeAsync();
        }
    }

    private sealed record DbClick(
        string ClickId, string? UtmMedium, string? UtmCampaign, string? UtmTerm, string? UtmContent, bool Qualified, int Score,
        DateTime DateCreated, DateTime DateUpdated, DateTime LastActivityAt, int EventsDropped, string? Events);

    [Fact]
    public async Task The_file_is_the_database_row_for_row_and_hostile_values_stay_inert()
    {
        using var response = await fixture.App.Client.GetAsync("/api/clicks/export.csv");
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("attachment; filename=\"clicks.csv\"", string.Join(", ", response.Content.Headers.GetValues("Content-Disposition")));
        var records = Rfc4180.Parse(csv);
        Assert.Equal(Header, records[0]);

        var rows = await fixture.Db.QueryAsync<DbClick>("""
            SELECT click_id AS ClickId, utm_medium AS UtmMedium, utm_campaign AS UtmCampaign, utm_term AS UtmTerm, utm_content AS UtmContent,
                   qualified, score, date_created AS DateCreated, date_updated AS DateUpdated, last_activity_at AS LastActivityAt,
                   events_dropped AS EventsDropped, events::text AS Events
              FROM cuft_click_tracking ORDER BY last_activity_at DESC, id DESC
            """);
        Assert.Equal(BulkClicks + 3, rows.Count);
        Assert.Equal(rows.Count, records.Count - 1);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(Expected(rows[i]), records[i + 1]);
        }

        var formulas = records.Single(r => r[0] == "hostile-formulas");
        Assert.Equal(["'=HYPERLINK(\"http://evil.example\",\"open\")", "'+SUM(1,2)", "'-2+3", "'@cmd|' /C calc'!A0"], formulas[1..5]);
        Assert.Matches(@"^phone_click\|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\|email_click\|[^|]+\|form_submit\|[^|]+\|phone_click\|[^|]+\|generate_lead\|[^|]+$", formulas[11]);
        var text = records.Single(r => r[0] == "hostile-text");
        Assert.Equal(["'\tleading tab", "comma, \"quote\" and more", "line one\nline two\r\nline three", "<script>alert('x')</script><b>bold</b>"], text[1..5]);
        // The quoting RFC 4180 asks for, byte for byte.
        Assert.Contains(",\"comma, \"\"quote\"\" and more\",\"line one\nline two\r\nline three\",<script>", csv, StringComparison.Ordinal);
        var quiet = records.Single(r => r[0] == "no-events");
        Assert.Equal(["", "", "", "", ""], quiet[11..]);
        Assert.Equal(quiet[8], quiet[9]);
    }

    [Fact]
    public async Task A_large_export_streams_while_its_query_runs_and_a_dropped_download_cancels_the_query()
    {
        var rollbacksBefore = await RollbacksAsync();
        using (var response = await fixture.App.Client.GetAsync("/api/clicks/export.csv", HttpCompletionOption.ResponseHeadersRead))
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            var start = await ReadAtLeastAsync(body, 64 * 1024);
            Assert.StartsWith(string.Join(',', Header) + "\r\n", start, StringComparison.Ordinal);
            // The first rows are here and the database is still producing the rest: it waits for the app to
            // take more, which waits for us. Had the app gathered the file first, the query would be over.
            Assert.True(await ExportQueryIsAsync("active", TimeSpan.FromSeconds(10)), "the export's query is not running while the download has begun");

            var rest = new StreamReader(body, Encoding.UTF8);
            var all = start + await rest.ReadToEndAsync();
            Assert.Equal(BulkClicks + 3 + 1, Rfc4180.Parse(all).Count);
        }
        Assert.True(await ExportQueryIsAsync("idle", TimeSpan.FromSeconds(10)), "the export's query still runs after the download ended");
        Assert.Equal(rollbacksBefore, await RollbacksAsync());

        // Dropped after the first 64 KiB: the query is cancelled, not read to its end for nobody.
        using (var response = await fixture.App.Client.GetAsync("/api/clicks/export.csv", HttpCompletionOption.ResponseHeadersRead))
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            await ReadAtLeastAsync(body, 64 * 1024);
            Assert.True(await ExportQueryIsAsync("active", TimeSpan.FromSeconds(10)), "the second export's query is not running");
        }
        Assert.True(await ExportQueryIsAsync("idle", TimeSpan.FromSeconds(15)), "the export's query still runs after the download was dropped");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await RollbacksAsync() == rollbacksBefore && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.True(await RollbacksAsync() > rollbacksBefore, "the dropped export's query ended without being cancelled");

        // And the app serves the next one whole.
        using var next = await fixture.App.Client.GetAsync("/api/clicks/export.csv?event_type=generate_lead");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(
            await fixture.Db.ScalarAsync<long>("""SELECT count(*) FROM cuft_click_tracking WHERE events @> '[{"event": "generate_lead"}]'""") + 1,
            Rfc4180.Parse(await next.Content.ReadAsStringAsync()).Count);
    }

    [Fact]
    public async Task A_database_failure_half_way_breaks_the_download_off_instead_of_ending_the_file_as_if_whole()
    {
        using var response = await fixture.App.Client.GetAsync("/api/clicks/export.csv", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await ReadAtLeastAsync(body, 64 * 1024);
        Assert.True(await ExportQueryIsAsync("active", TimeSpan.FromSeconds(10)), "the export's query is not running");

        // Its connection dies under the export (a failover, an administrator).
        Assert.Equal(1L, await fixture.Db.ScalarAsync<long>("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
               AND query LIKE '%FROM cuft_click_tracking c WHERE true ORDER BY%'
            """));

        // What was buffered arrives, then the transfer fails: never a short file that looks complete.
        await Assert.ThrowsAnyAsync<IOException>(() => new StreamReader(body).ReadToEndAsync());
    }

    /// <summary>The cells the export must hold for a database row, computed here from its columns and its chronology.</summary>
    private static string[] Expected(DbClick c)
    {
        static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        static string Inert(string? v) => v is null ? "" : v.Length > 0 && "=+-@\t\r".Contains(v[0], StringComparison.Ordinal) ? "'" + v : v;
        var types = new[] { "phone_click", "email_click", "form_submit", "generate_lead" };
        var latest = new DateTime?[types.Length];
        var pairs = new List<string>();
        foreach (var entry in c.Events is null ? [] : JsonDocument.Parse(c.Events).RootElement.EnumerateArray().ToList())
        {
            var name = entry.GetProperty("event").GetString()!;
            var at = entry.GetProperty("timestamp").GetDateTime().ToUniversalTime();
            pairs.Add($"{name}|{Time(at)}");
            var type = Array.IndexOf(types, name);
            if (type >= 0 && (latest[type] is null || at > latest[type]))
            {
                latest[type] = at;
            }
        }
        var newest = latest.Max();
        // Cross-checks the stored last activity: the newest event (of any kind), else date_updated.
        var newestAny = c.Events is null ? null : JsonDocument.Parse(c.Events).RootElement.EnumerateArray()
            .Select(e => (DateTime?)e.GetProperty("timestamp").GetDateTime().ToUniversalTime()).Max();
        Assert.Equal(Time(newestAny ?? c.DateUpdated), Time(c.LastActivityAt));
        Assert.True(newest is null || newest <= c.LastActivityAt.ToUniversalTime().AddMilliseconds(1));
        return
        [
            Inert(c.ClickId), Inert(c.UtmMedium), Inert(c.UtmCampaign), Inert(c.UtmTerm), Inert(c.UtmContent),
            c.Qualified ? "true" : "false", c.Score.ToString(CultureInfo.InvariantCulture),
            Time(c.DateCreated), Time(c.DateUpdated), Time(c.LastActivityAt), c.EventsDropped.ToString(CultureInfo.InvariantCulture),
            string.Join('|', pairs), .. latest.Select(t => t is null ? "" : Time(t.Value)),
        ];
    }

    private static async Task<string> ReadAtLeastAsync(Stream body, int bytes)
    {
        var buffer = new byte[bytes];
        await body.ReadAtLeastAsync(buffer, bytes);
        // Up to the last whole line, so a character is never cut.
        var text = Encoding.UTF8.GetString(buffer);
        return text[..(text.LastIndexOf('\n') + 1)] is var whole && whole.Length > 0 ? whole : text;
    }

    /// <summary>Polls until the export's query is in <paramref name="state"/> (pg_stat_activity).</summary>
    private async Task<bool> ExportQueryIsAsync(string state, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var states = await fixture.Db.QueryAsync<string>("""
                SELECT state FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%FROM cuft_click_tracking c WHERE true ORDER BY%'
                """);
            var active = states.Contains("active");
            if (state == "active" ? active : !active)
            {
                return true;
            }
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
    }

    private Task<long> RollbacksAsync() =>
        fixture.Db.ScalarAsync<long>("SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()");
}
