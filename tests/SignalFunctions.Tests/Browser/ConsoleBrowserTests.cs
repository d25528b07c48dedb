using System.Collections.ObjectModel;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenQA.Selenium;

namespace SignalFunctions.Tests.Browser;

/// <summary>
/// The ops console as an operator uses it: a real headless Chromium on the real app, each section
/// checked against what the database holds. Values from data are text on the page, never markup.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private const string SignalEventsCard = "[data-migration='signal-events']";

    [Fact]
    public async Task Page_and_its_files_are_served_by_the_app_with_no_inline_script_and_headers_that_keep_them_inert()
    {
        using var page = await fixture.App.Client.GetAsync($"/api/console?code={ConsolePage.Key}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(page.Headers.GetValues("Referrer-Policy")));

        var html = await page.Content.ReadAsStringAsync();
        var scripts = Regex.Matches(html, "<script[^>]*>", RegexOptions.IgnoreCase);
        Assert.NotEmpty(scripts);
        Assert.All(scripts, tag => Assert.Contains(" src=", tag.Value, StringComparison.Ordinal));
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", html);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);

        foreach (var (file, type) in new[] { ("console.js", "text/javascript"), ("console.css", "text/css") })
        {
            using var asset = await fixture.App.Client.GetAsync($"/api/console/{file}");
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            Assert.Equal("nosniff", Assert.Single(asset.Headers.GetValues("X-Content-Type-Options")));
            // Nothing from another origin: no CDN, no font, no tracker.
            Assert.DoesNotMatch("https?://", await asset.Content.ReadAsStringAsync());

            // A browser revalidating an unchanged file gets no bytes.
            using var again = new HttpRequestMessage(HttpMethod.Get, $"/api/console/{file}");
            again.Headers.IfNoneMatch.Add(asset.Headers.ETag!);
            using var unchanged = await fixture.App.Client.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        }
        Assert.DoesNotMatch("https?://", html);

        using var gzipped = new HttpRequestMessage(HttpMethod.Get, "/api/console/console.js");
        gzipped.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var compressed = await fixture.App.Client.SendAsync(gzipped);
        Assert.Equal("gzip", Assert.Single(compressed.Content.Headers.ContentEncoding));

        foreach (var missing in new[] { "nothing.js", "console.html" })
        {
            using var response = await fixture.App.Client.GetAsync($"/api/console/{missing}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task Migrations_show_stage_backfill_parity_repair_queue_guard_and_cut_over_as_the_database_holds_them()
    {
        using var page = ConsolePage.Open(fixture.App);
        var flags = await fixture.Db.QueryAsync<(string Migration, string Stage)>("SELECT migration, stage FROM stage_flags");
        await page.UntilAsync(() => page.Texts("[data-migration] h3").Count, n => n == flags.Count, $"{flags.Count} migration cards");
        foreach (var (migration, stage) in flags)
        {
            Assert.Equal(stage, page.Run($"return document.querySelector(\"[data-migration='{migration}'] .steps [aria-current]\").dataset.stage"));
        }
        Assert.Equal(["off"], page.Texts($"{SignalEventsCard} .steps li.done .step-name"));

        var progress = (await fixture.Db.QueryAsync<(long Scanned, long Copied, long Total, double Rate)>(
            "SELECT rows_scanned, rows_copied, rows_total, rate FROM backfill_progress WHERE migration = 'signal-events'")).Single();
        var backfill = await page.UntilAsync(() => page.Text($"{SignalEventsCard} [data-field=backfill-rows]"),
            text => text.StartsWith($"{progress.Scanned:N0} of {progress.Total:N0} rows scanned", StringComparison.Ordinal), "the backfill's checkpoint");
        Assert.EndsWith($"{progress.Copied:N0} copied", backfill, StringComparison.Ordinal);
        Assert.Equal(progress.Scanned * 100.0 / progress.Total, Number(Regex.Match(backfill, @"\(([\d.,]+) %\)").Groups[1].Value), 0.051);
        Assert.Equal(progress.Rate, Number(page.Text($"{SignalEventsCard} [data-field=backfill-rate]").Replace(" rows/s", "", StringComparison.Ordinal)), 0.051);
        Assert.Matches(@"^ETA \d+ (s|min|h|d)", page.Text($"{SignalEventsCard} [data-field=backfill-eta]"));

        var parity = (await fixture.Db.QueryAsync<(long Missing, long Extra, long Different, string[] DifferentKeys)>("""
            SELECT missing_count, extra_count, different_count, different_keys FROM parity_reports
             WHERE migration = 'signal-events' ORDER BY id DESC LIMIT 1
            """)).Single();
        Assert.True(parity.Missing > 0 && parity.Different == 1, "the fixture's report: rows not backfilled yet, one row changed");
        Assert.Equal($"differences: {parity.Missing:N0} missing, {parity.Extra:N0} extra, {parity.Different:N0} different",
            page.Text($"{SignalEventsCard} [data-field=parity-verdict]"));
        page.Driver.FindElement(By.CssSelector($"{SignalEventsCard} [data-field=parity] details summary")).Click();
        Assert.Equal($"different: {string.Join(", ", parity.DifferentKeys)}", page.Text($"{SignalEventsCard} .keys[data-kind=different]"));

        var pending = await fixture.Db.ScalarAsync<long>("SELECT count(*) FROM repair_entries WHERE migration = 'signal-events' AND resolved_at IS NULL");
        Assert.Equal(1L, pending);
        Assert.Equal($"{pending} pending", page.Text($"{SignalEventsCard} [data-field=repair]"));
        Assert.Equal("watching", page.Text($"{SignalEventsCard} [data-field=guard-state]"));
        Assert.Equal("no step back yet", page.Text($"{SignalEventsCard} [data-field=guard-last]"));
        Assert.Equal("not cut over", page.Text($"{SignalEventsCard} [data-field=cutover]"));

        var history = await fixture.Db.QueryAsync<(string From, string To, string Actor)>(
            "SELECT from_stage, to_stage, actor FROM stage_history WHERE migration = 'signal-events' ORDER BY id DESC LIMIT 5");
        Assert.Equal($"Last stage changes ({history.Count})", page.Text($"{SignalEventsCard} [data-field=history] summary"));
        var rows = Rows($"{SignalEventsCard} [data-field=history] tbody tr", page);
        Assert.Equal(history.Select(c => ($"{c.From} → {c.To}", c.Actor)), rows.Select(r => (r[1], r[3])));

        page.Screenshot("console-migrations", "#migrations");
        page.AssertNothingInjected();
    }

    [Fact]
    public async Task Migrations_refresh_by_themselves_keeping_what_the_reader_opened_and_where_they_were()
    {
        using var page = ConsolePage.Open(fixture.App);
        await page.UntilAsync(() => page.Texts($"{SignalEventsCard} [data-field=backfill-rows]").Count, n => n == 1, "the signal-events card");
        page.Driver.FindElement(By.CssSelector($"{SignalEventsCard} [data-field=history] summary")).Click();
        page.Run("window.__sameDocument = true; window.scrollTo(0, 300)");
        var scrolled = Convert.ToInt64(page.Run("return Math.round(window.scrollY)"), CultureInfo.InvariantCulture);
        Assert.Equal(300L, scrolled);

        await fixture.BackfillOneBatchAsync();
        var scanned = await fixture.Db.ScalarAsync<long>("SELECT rows_scanned FROM backfill_progress WHERE migration = 'signal-events'");
        await page.UntilAsync(() => page.Text($"{SignalEventsCard} [data-field=backfill-rows]"),
            text => text.StartsWith($"{scanned:N0} of", StringComparison.Ordinal), "the next batch's checkpoint without a reload");

        Assert.Equal(true, page.Run("return window.__sameDocument === true"));
        Assert.Equal(true, page.Run($"return document.querySelector(\"{SignalEventsCard} [data-field=history]\").open"));
        Assert.Equal(scrolled, Convert.ToInt64(page.Run("return Math.round(window.scrollY)"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Signal_path_from_a_link_lists_the_journey_in_time_order_from_the_side_that_served_it_with_metadata_as_text()
    {
        using var page = ConsolePage.Open(fixture.App, $"#path={fixture.Journey}");
        var expected = await fixture.Db.QueryAsync<(DateTime CreatedAt, string EventType, string SourceComponent, string SessionId, string Metadata)>("""
            SELECT created_at, event_type, source_component, session_id, (metadata - 'signal_id')::text
              FROM blog_attribution_events WHERE metadata ->> 'signal_id' = @journey ORDER BY created_at, id
            """, new { journey = fixture.Journey.ToString() });
        Assert.Equal(["impression", "click", "save", "convert"], expected.Select(e => e.EventType));

        await page.UntilAsync(() => Rows("#path-result tbody tr", page).Count, n => n == expected.Count, $"{expected.Count} events");
        var rows = Rows("#path-result tbody tr", page);
        for (var i = 0; i < expected.Count; i++)
        {
            var (createdAt, eventType, source, session, metadata) = expected[i];
            Assert.Equal((i + 1).ToString(CultureInfo.InvariantCulture), rows[i][0]);
            Assert.Equal(createdAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), rows[i][1]);
            Assert.Equal((eventType, source, session), (rows[i][2], rows[i][3], rows[i][6]));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(metadata), JsonNode.Parse(rows[i][8])), $"metadata {rows[i][8]} is not {metadata}");
        }
        // At dual_write the journey is read from the old table.
        Assert.Contains("served from the legacy side (stage dual_write", page.Text("[data-field=path-summary]"), StringComparison.Ordinal);
        Assert.Empty(page.Texts("[data-field=path-cut]"));
        Assert.Equal(ConsoleFixture.HostileText, (string?)JsonNode.Parse(rows[2][8])!["note"]);
        page.AssertNothingInjected();

        // Every API the page read carried its key.
        var requests = page.ApiRequests();
        Assert.Contains(requests, r => r.AbsolutePath == $"/api/signal/{fixture.Journey}/path");
        Assert.Contains(requests, r => r.AbsolutePath == "/api/migrations");
        Assert.All(requests, r => Assert.Contains($"code={ConsolePage.Key}", r.Query, StringComparison.Ordinal));
        page.Screenshot("console-path", "#path");
    }

    [Fact]
    public async Task Signal_path_entered_in_the_form_says_when_the_list_was_cut_at_its_limit_and_the_address_links_to_it()
    {
        using var page = ConsolePage.Open(fixture.App);
        var input = page.Driver.FindElement(By.Id("path-signal-id"));
        input.SendKeys(fixture.LongJourney.ToString());
        input.Submit();

        var limit = SignalFunctions.Ingest.SignalEventsApi.MaxPathEvents;
        await page.UntilAsync(() => page.Texts("#path-result tbody tr").Count, n => n == limit, $"{limit} events");
        Assert.True(ConsoleFixture.LongJourneyEvents > limit);
        Assert.Equal($"The list stops at its limit of {limit:N0} events: the journey may have more, later ones are not shown.", page.Text("[data-field=path-cut]"));
        Assert.Equal($"#path={fixture.LongJourney}", page.Run("return location.hash"));
        var first = await fixture.Db.ScalarAsync<DateTime>(
            "SELECT min(created_at) FROM blog_attribution_events WHERE metadata ->> 'signal_id' = @journey", new { journey = fixture.LongJourney.ToString() });
        Assert.Equal(first.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), Rows("#path-result tbody tr:first-child", page)[0][1]);

        // A link that is not a journey gets the API's own words.
        page.Driver.Navigate().GoToUrl(new Uri(fixture.App.BaseAddress, $"api/console?code={ConsolePage.Key}&signal_id=not-a-uuid"));
        await page.UntilAsync(() => page.Text("#path-status"), text => text.Contains("signal_id: must be a UUID", StringComparison.Ordinal), "the 400's field and reason");
        Assert.Empty(page.Texts("#path-result tr"));
    }

    [Fact]
    public async Task Health_shows_the_database_the_flag_source_and_write_failures_per_side()
    {
        using var page = ConsolePage.Open(fixture.App);
        const string newSide = "#health tr[data-migration='signal-events'] td[data-side=new]";
        const string legacySide = "#health tr[data-migration='signal-events'] td[data-side=legacy]";
        await page.UntilTextAsync("[data-field=flag-source]", "embedded");
        Assert.StartsWith("Database reachable", page.Text("[data-field=database]"), StringComparison.Ordinal);

        var recent = await fixture.Db.QueryAsync<(string Side, long Count)>("""
            SELECT target_side, count(*) FROM repair_entries
             WHERE migration = 'signal-events' AND created_at > now() - interval '15 minutes' GROUP BY 1
            """);
        Assert.Equal([("new", 1L)], recent);
        // The fixture made exactly one new-side write fail on this app instance.
        Assert.Equal("1", page.Text($"{newSide} [data-field=write-failures]"));
        Assert.Equal("1", page.Text($"{newSide} [data-field=recent-errors]"));
        Assert.Contains(ConsoleFixture.RefusedWrite, page.Text($"{newSide} [data-field=last-error]"), StringComparison.Ordinal);
        Assert.Equal("0", page.Text($"{legacySide} [data-field=write-failures]"));
        Assert.Equal("0", page.Text($"{legacySide} [data-field=recent-errors]"));
        Assert.Equal("yes", page.Text($"{legacySide} [data-field=reachable]"));
        page.Screenshot("console-health", "#health");
    }

    private static List<string[]> Rows(string css, ConsolePage page) =>
        ((ReadOnlyCollection<object>)page.Run("return [...document.querySelectorAll(arguments[0])].map(r => [...r.cells].map(c => c.textContent))", css)!)
            .Select(row => ((ReadOnlyCollection<object>)row).Cast<string>().ToArray())
            .ToList();

    private static double Number(string text) => double.Parse(text.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
}
