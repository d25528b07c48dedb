using System.Collections.ObjectModel;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenQA.Selenium;
using SignalFunctions.Migrations;
using SignalFunctions.Partitions;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Clicks;

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

        // What blocks the next stage is what the stage verb would refuse now, word for word.
        var snapshot = await fixture.Engine.Flags.LoadAsync(CancellationToken.None);
        await using var connection = await fixture.Db.DataSource.OpenConnectionAsync();
        var passing = 0;
        foreach (var (migration, flag) in snapshot.Flags)
        {
            var card = $"[data-migration='{migration}']";
            if (flag.Stage.Next() is not { } next)
            {
                Assert.Equal("At the last stage: nothing to move to.", page.Text($"{card} [data-field=next-stage]"));
                continue;
            }
            var refusals = await StageControl.RefusalsAsync(connection, migration, flag, next, 100, CancellationToken.None);
            Assert.Equal(refusals, page.Texts($"{card} .blockers li"));
            Assert.Contains(refusals.Count == 0 ? "gate passes" : $"blocked ({refusals.Count})", page.Text($"{card} [data-field=next-stage]"), StringComparison.Ordinal);
            Assert.Equal($"./run.sh stage {migration} {next.Name()}", page.Text($"{card} .command"));
            passing += refusals.Count == 0 ? 1 : 0;
        }
        Assert.NotEmpty(page.Texts($"{SignalEventsCard} .blockers li"));
        Assert.True(passing > 0, "a migration at off may move to dual_write");

        // The README's picture: the cards as an operator first sees them.
        page.Driver.FindElement(By.CssSelector($"{SignalEventsCard} [data-field=parity] details summary")).Click();
        page.Run("window.scrollTo(0, 0)");
        page.Screenshot("console-migrations");
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
        var requests = await page.UntilAsync(page.ApiRequests, r => r.Any(u => u.AbsolutePath == "/api/migrations"), "the migrations read done");
        Assert.Contains(requests, r => r.AbsolutePath == $"/api/signal/{fixture.Journey}/path");
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

    [Fact]
    public async Task Clicks_list_newest_activity_first_with_each_timeline_as_the_database_holds_it_and_hostile_values_as_text()
    {
        using var page = ConsolePage.Open(fixture.App);
        var expected = await ClicksAsync("true", null, ascending: false);
        Assert.InRange(expected.Count, 2, 100);
        await page.UntilAsync(() => ShownClickIds(page), ids => ids.SequenceEqual(expected.Select(c => c.ClickId)), "every click, newest activity first");

        foreach (var click in expected)
        {
            var row = $"#clicks-result tr[data-click-id='{click.ClickId}']";
            Assert.Equal(Time(click.LastActivity), page.Text($"{row} [data-field=last-activity]"));
            Assert.Equal(Time(click.DateCreated), page.Text($"{row} [data-field=created]"));
            Assert.Equal(Timeline(click.Events), ShownTimeline(page, row));
            Assert.Equal(click.Qualified ? $"qualified · {click.Score}" : $"score {click.Score}", page.Text($"{row} [data-field=qualified]"));
            var dropped = page.Texts($"{row} .timeline li.muted");
            Assert.Equal(click.EventsDropped > 0 ? [$"{click.EventsDropped} older dropped"] : [], dropped);
        }
        Assert.Contains(expected, c => c.Events is null);
        Assert.Contains(expected, c => c.EventsDropped > 0);

        // Markup and formulas in data are shown as they are, and nothing of them runs.
        var hostile = $"#clicks-result tr[data-click-id='{ConsoleFixture.HostileClick}'] [data-field=utm] div";
        Assert.Equal(ConsoleFixture.HostileUtm.Select(u => $"{u.Key[4..]} {u.Value}"), page.Texts(hostile));
        page.AssertNothingInjected();
    }

    [Fact]
    public async Task Clicks_filtered_by_event_type_and_last_activity_days_are_the_rows_the_database_selects_and_pages_follow_the_keyset()
    {
        using var page = ConsolePage.Open(fixture.App);
        await page.UntilAsync(() => ShownClickIds(page).Count, n => n > 0, "the first page of clicks");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var (from, to) = (today.AddDays(-20), today.AddDays(-5));

        ApplyClickFilters(page, ["phone_click", "generate_lead"], from, to, "last_activity_desc", 100);
        var filtered = await ClicksAsync("""
            (events @> '[{"event": "phone_click"}]' OR events @> '[{"event": "generate_lead"}]')
            AND last_activity_at >= @from AND last_activity_at < @until
            """, new { from = from.ToDateTime(TimeOnly.MinValue), until = to.AddDays(1).ToDateTime(TimeOnly.MinValue) }, ascending: false);
        Assert.InRange(filtered.Count, 2, 15);
        await page.UntilAsync(() => ShownClickIds(page), ids => ids.SequenceEqual(filtered.Select(c => c.ClickId)), "the clicks the filters select");
        Assert.All(filtered, c => Assert.Equal(Timeline(c.Events), ShownTimeline(page, $"#clicks-result tr[data-click-id='{c.ClickId}']")));
        page.Run("document.getElementById('clicks').scrollIntoView()");
        page.Screenshot("console-clicks", "#clicks");

        // Oldest first, 25 a page: the keyset walks forward and back over exactly the rows the database orders so.
        ApplyClickFilters(page, [], null, null, "last_activity_asc", 25);
        var all = await ClicksAsync("true", null, ascending: true);
        Assert.InRange(all.Count, 26, 50);
        var first = all.Take(25).Select(c => c.ClickId).ToList();
        await page.UntilAsync(() => ShownClickIds(page), ids => ids.SequenceEqual(first), "the first 25, oldest first");
        Assert.Equal((true, false), ((bool)page.Run("return document.getElementById('clicks-prev').disabled")!, (bool)page.Run("return document.getElementById('clicks-next').disabled")!));
        page.Driver.FindElement(By.Id("clicks-next")).Click();
        await page.UntilAsync(() => ShownClickIds(page), ids => ids.SequenceEqual(all.Skip(25).Select(c => c.ClickId)), "the rest on page 2");
        Assert.Equal("page 2", page.Text("#clicks-page"));
        Assert.Equal(true, page.Run("return document.getElementById('clicks-next').disabled"));
        page.Driver.FindElement(By.Id("clicks-prev")).Click();
        await page.UntilAsync(() => ShownClickIds(page), ids => ids.SequenceEqual(first), "page 1 again");
    }

    [Fact]
    public async Task Csv_export_link_downloads_exactly_what_the_filters_select_row_for_row_with_formulas_made_inert()
    {
        using var page = ConsolePage.Open(fixture.App);
        await page.UntilAsync(() => ShownClickIds(page).Count, n => n > 0, "the first page of clicks");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        ApplyClickFilters(page, ["phone_click"], today.AddDays(-15), today, "last_activity_desc", 100);
        var expected = await ClicksAsync("""
            events @> '[{"event": "phone_click"}]' AND last_activity_at >= @from AND last_activity_at < @until
            """, new { from = today.AddDays(-15).ToDateTime(TimeOnly.MinValue), until = today.AddDays(1).ToDateTime(TimeOnly.MinValue) }, ascending: false);
        Assert.Contains(expected, c => c.ClickId == ConsoleFixture.HostileClick);
        await page.UntilAsync(() => ShownClickIds(page), ids => ids.SequenceEqual(expected.Select(c => c.ClickId)), "the clicks the filters select");

        // The link carries the list's filters, and the key.
        var link = new Uri((string)page.Run("return document.getElementById('clicks-export').href")!);
        Assert.Equal("/api/clicks/export.csv", link.AbsolutePath);
        var list = page.ApiRequests().Last(r => r.AbsolutePath == "/api/clicks");
        Assert.Equal(Parameters(list).Where(p => p.Name is not ("limit" or "after")), Parameters(link));
        Assert.Contains(("code", ConsolePage.Key), Parameters(link));

        // Downloaded by the page, as the link would.
        var download = (IReadOnlyDictionary<string, object>)((IJavaScriptExecutor)page.Driver).ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0]).then(async r => done({
              status: r.status, type: r.headers.get('Content-Type'), disposition: r.headers.get('Content-Disposition'), body: await r.text() }));
            """, link.ToString())!;
        Assert.Equal(200L, download["status"]);
        Assert.Equal("text/csv; charset=utf-8", download["type"]);
        Assert.Contains("attachment", (string)download["disposition"], StringComparison.Ordinal);
        var csv = (string)download["body"];
        Assert.Equal(csv, await fixture.App.Client.GetStringAsync(link.PathAndQuery));

        var records = Rfc4180.Parse(csv);
        Assert.Equal(ExportHeader, records[0]);
        Assert.Equal(expected.Count, records.Count - 1);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(ExportRow(expected[i]), records[i + 1]);
        }
        var hostile = records.Single(r => r[0] == ConsoleFixture.HostileClick);
        Assert.Equal(ConsoleFixture.HostileUtm.Values.Select(v => "'" + v), hostile[1..5]);
    }

    private static readonly string[] EventTypes = ["phone_click", "email_click", "form_submit", "generate_lead"];

    private static readonly string[] ExportHeader =
    [
        "click_id", "utm_medium", "utm_campaign", "utm_term", "utm_content", "qualified", "score",
        "date_created", "date_updated", "last_activity", "events_dropped", "events",
        "phone_click_at", "email_click_at", "form_submit_at", "generate_lead_at",
    ];

    private sealed record StoredClick(
        long Id, string ClickId, string? UtmMedium, string? UtmCampaign, string? UtmTerm, string? UtmContent, bool Qualified, int Score,
        DateTime DateCreated, DateTime DateUpdated, DateTime LastActivity, int EventsDropped, string? Events);

    private Task<IReadOnlyList<StoredClick>> ClicksAsync(string where, object? args, bool ascending)
    {
        var direction = ascending ? "ASC" : "DESC";
        return fixture.Db.QueryAsync<StoredClick>($"""
            SELECT id, click_id AS ClickId, utm_medium AS UtmMedium, utm_campaign AS UtmCampaign, utm_term AS UtmTerm,
                   utm_content AS UtmContent, qualified, score, date_created AS DateCreated, date_updated AS DateUpdated,
                   last_activity_at AS LastActivity, events_dropped AS EventsDropped, events::text AS Events
              FROM cuft_click_tracking WHERE {where} ORDER BY last_activity_at {direction}, id {direction}
            """, args);
    }

    /// <summary>As an operator would: ticks the types, picks the days (UTC, "to" included), the order and the page size, then Apply.</summary>
    private static void ApplyClickFilters(ConsolePage page, string[] types, DateOnly? from, DateOnly? to, string sort, int limit)
    {
        foreach (var box in page.Driver.FindElements(By.CssSelector("#clicks-form input[name=event_type]")))
        {
            if (box.Selected != types.Contains(box.GetDomProperty("value")))
            {
                box.Click();
            }
        }
        // Date inputs take keys in the browser's locale; their value is ISO whatever it is.
        page.Run("""
            const form = document.getElementById('clicks-form');
            form.elements.from.value = arguments[0];
            form.elements.to.value = arguments[1];
            form.elements.sort.value = arguments[2];
            form.elements.limit.value = arguments[3];
            """, from?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "", to?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
            sort, limit.ToString(CultureInfo.InvariantCulture));
        page.Driver.FindElement(By.CssSelector("#clicks-form button[type=submit]")).Click();
    }

    private static List<string> ShownClickIds(ConsolePage page) =>
        ((ReadOnlyCollection<object>)page.Run("return [...document.querySelectorAll('#clicks-result tbody tr')].map(r => r.dataset.clickId)")!).Cast<string>().ToList();

    private static List<string> ShownTimeline(ConsolePage page, string row) =>
        ((ReadOnlyCollection<object>)page.Run(
            "return [...document.querySelectorAll(arguments[0] + ' .timeline li:not(.muted)')].map(li => li.querySelector('.badge').textContent + ' ' + li.querySelector('time').textContent)",
            row)!).Cast<string>().ToList();

    /// <summary>The chronology as stored, entry by entry: event and UTC time.</summary>
    private static List<(string Event, DateTime At)> Entries(string? events) =>
        events is null ? [] : [.. JsonNode.Parse(events)!.AsArray().Select(e => ((string)e!["event"]!, DateTimeOffset.Parse((string)e["timestamp"]!, CultureInfo.InvariantCulture).UtcDateTime))];

    private static List<string> Timeline(string? events) => [.. Entries(events).Select(e => $"{e.Event} {Time(e.At)}")];

    private static string Time(DateTime at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The export's row for a click, computed here from the stored click: text a spreadsheet would run gets a ' in front.</summary>
    private static string[] ExportRow(StoredClick c)
    {
        var entries = Entries(c.Events);
        string Latest(string type) => entries.Where(e => e.Event == type).Select(e => Time(e.At)).Order(StringComparer.Ordinal).LastOrDefault() ?? "";
        return
        [
            c.ClickId, Inert(c.UtmMedium), Inert(c.UtmCampaign), Inert(c.UtmTerm), Inert(c.UtmContent), c.Qualified ? "true" : "false",
            c.Score.ToString(CultureInfo.InvariantCulture), Time(c.DateCreated), Time(c.DateUpdated), Time(c.LastActivity),
            c.EventsDropped.ToString(CultureInfo.InvariantCulture), string.Join("|", entries.Select(e => $"{e.Event}|{Time(e.At)}")),
            .. EventTypes.Select(Latest),
        ];
    }

    private static string Inert(string? value) => value is { Length: > 0 } && "=+-@".Contains(value[0], StringComparison.Ordinal) ? "'" + value : value ?? "";

    private static List<(string Name, string Value)> Parameters(Uri url) =>
        [.. url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Uri.UnescapeDataString(p[0]), Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : "")))];

    [Fact]
    public async Task Event_partitions_show_each_partition_and_what_retention_archived_as_the_database_holds_them()
    {
        using var page = ConsolePage.Open(fixture.App);
        var partitions = await fixture.Db.QueryAsync<(string Name, DateTime? Lower, DateTime? Upper)>(
            "SELECT partition, lower_bound, upper_bound FROM partition_bounds('signal_events') ORDER BY lower_bound NULLS FIRST");
        await page.UntilAsync(() => page.Texts("#partitions tr[data-partition]").Count, n => n == partitions.Count, $"{partitions.Count} partition rows");

        var rows = Rows("#partitions .partitions-table tbody tr", page);
        Assert.Equal(partitions.Select(p => (p.Name, PartitionInfo.RangeOf(p.Lower, p.Upper))), rows.Select(r => (r[0], r[1])));
        Assert.DoesNotContain(fixture.RetiredPartition, rows.Select(r => r[0]));
        // Due: ending on or before the month two back; kept, because signal-events left off.
        var due = await fixture.Db.QueryAsync<string>($"""
            SELECT partition FROM partition_bounds('signal_events')
             WHERE upper_bound <= date_trunc('month', now(), 'UTC') - interval '{ConsoleFixture.RetentionMonths} months'
            """);
        Assert.Equal(["signal_events_history"], due);
        Assert.Equal(due, rows.Where(r => r[4] == "due, kept").Select(r => r[0]));
        Assert.Equal(rows.Count - due.Count, rows.Count(r => r[4] == ""));
        var stage = await fixture.Db.ScalarAsync<string>("SELECT stage FROM stage_flags WHERE migration = 'signal-events'");
        Assert.StartsWith($"Due but kept: migration signal-events is at {stage}: its backfill, parity and repair still read signal_events",
            page.Text("#partitions [data-field=kept-because]"), StringComparison.Ordinal);
        Assert.StartsWith($"Retention: {ConsoleFixture.RetentionMonths} months: partitions ending on or before ", page.Text("#partitions [data-field=retention]"), StringComparison.Ordinal);

        var archived = (await fixture.Db.QueryAsync<(string Partition, DateTime From, DateTime To, string State, long Rows, string File, string Sha256)>(
            "SELECT partition, range_from, range_to, state, rows, file, sha256 FROM partition_archives")).Single();
        Assert.Equal((fixture.RetiredPartition, "dropped", (long)ConsoleFixture.RetiredRows), (archived.Partition, archived.State, archived.Rows));
        var archive = Assert.Single(Rows("#partitions .archives-table tbody tr", page));
        Assert.Equal(
            [archived.Partition, PartitionInfo.RangeOf(archived.From, archived.To), archived.State, $"{archived.Rows:N0}", archived.Sha256],
            [archive[1], archive[2], archive[3], archive[4], archive[6]]);
        Assert.StartsWith(archived.File, archive[5], StringComparison.Ordinal);
        Assert.True(File.Exists(archived.File), archived.File);
        page.AssertNothingInjected();
        page.Screenshot("console-partitions", "#partitions");
    }

    private static List<string[]> Rows(string css, ConsolePage page) =>
        ((ReadOnlyCollection<object>)page.Run("return [...document.querySelectorAll(arguments[0])].map(r => [...r.cells].map(c => c.textContent))", css)!)
            .Select(row => ((ReadOnlyCollection<object>)row).Cast<string>().ToArray())
            .ToList();

    private static double Number(string text) => double.Parse(text.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
}
