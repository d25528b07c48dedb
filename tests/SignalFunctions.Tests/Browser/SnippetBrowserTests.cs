using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Browser;

/// <summary>The app, its database, and a customer site on another origin that includes the snippet.</summary>
public sealed class SnippetSiteFixture : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;
    public AppProcess App { get; private set; } = null!;
    public TestSite Site { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        var origin = TestSite.ReserveOrigin();
        App = await AppProcess.StartAsync(Db.ConnectionString, new Dictionary<string, string>
        {
            ["Ingest__AllowedOrigins__0"] = origin.GetLeftPart(UriPartial.Authority),
        });
        Site = await TestSite.StartAsync(origin, App.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        if (Site is not null)
        {
            await Site.DisposeAsync();
        }
        if (App is not null)
        {
            await App.DisposeAsync();
        }
        if (Db is not null)
        {
            await Db.DisposeAsync();
        }
    }
}

/// <summary>
/// /api/signal.js in a real headless Chromium, on a page of another origin, against the real app
/// and database (stage off: article events land in blog_attribution_events, the journey in
/// metadata.signal_id). Each test has its own browser profile, so its own journey and session,
/// and asserts only on rows of that session.
/// </summary>
public sealed class SnippetBrowserTests(SnippetSiteFixture site) : IClassFixture<SnippetSiteFixture>
{
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(20);

    private sealed record LandedEvent(Guid Id, string EventType, string? SignalId, string? Distribution);

    [Fact]
    public async Task Impression_save_and_a_click_that_navigates_away_land_exactly_once_under_one_signal_id()
    {
        using var browser = HeadlessChromium.Start();
        var (signalId, sessionId) = OpenArticle(browser, "/live/article");

        browser.Driver.FindElement(By.Id("save")).Click();
        AssertPageIsClean(browser);
        await FollowLinkAwayAsync(browser);

        // /plain has no snippet: the click can only have left with the page that tracked it.
        await UntilLandedAsync(sessionId, 3);

        // A later page with the snippet sends whatever the earlier one never saw acknowledged
        // (the click, if its answer came after the page was gone): the API must absorb the resend.
        browser.Driver.Navigate().GoToUrl(site.Site.Url("/default/quiet"));
        var landed = await SettledAsync(browser, sessionId);
        AssertOneJourney(landed, signalId, "click", "impression", "save");
        Assert.Equal(0L, await site.Db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE session_id = @sessionId", new { sessionId }));

        // The Signal Path Viewer shows the journey whole, in the order it happened.
        var path = await site.App.Client.GetFromJsonAsync<JsonElement>($"/api/signal/{signalId}/path");
        Assert.Equal(["impression", "save", "click"],
            path.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_type").GetString()));
        AssertPageIsClean(browser);
    }

    [Fact]
    public async Task Events_the_beacon_carried_off_the_page_land_once_though_the_next_page_sends_them_again()
    {
        using var browser = HeadlessChromium.Start();
        var (signalId, sessionId) = OpenArticle(browser, "/live/article");
        await UntilLandedAsync(sessionId, 1);
        await UntilQueueIsEmptyAsync(browser);

        // The API asked for a pause (as a 429 or 503 does), so fetch holds back the next events
        // and only the beacon on pagehide can take them.
        browser.Run("""
            localStorage.setItem('signal:retry', JSON.stringify({url: arguments[0], n: 0, at: Date.now() + 60000}));
            """, new Uri(site.App.BaseAddress, "api/signal/events").ToString());
        browser.Driver.FindElement(By.Id("save")).Click();
        await FollowLinkAwayAsync(browser);
        await UntilLandedAsync(sessionId, 3);

        // A beacon's answer is never seen, so both are still queued: once the pause is over, the
        // next page sends them again.
        Assert.Equal(2, Queued(browser).Count);
        browser.Run("localStorage.removeItem('signal:retry')");
        browser.Driver.Navigate().GoToUrl(site.Site.Url("/default/quiet"));
        var landed = await SettledAsync(browser, sessionId);
        AssertOneJourney(landed, signalId, "click", "impression", "save");
        AssertPageIsClean(browser);
    }

    [Fact]
    public async Task Events_tracked_while_the_api_is_unreachable_are_delivered_exactly_once_by_a_later_page_load()
    {
        using var browser = HeadlessChromium.Start();
        var (signalId, sessionId) = OpenArticle(browser, "/dead/article");
        browser.Driver.FindElement(By.Id("save")).Click();

        // Both tried and failed (a backoff is recorded), both still queued, none written.
        await Until(() => Task.FromResult(browser.Run("return localStorage.getItem('signal:retry')") is not null), "a failed send to back off from");
        var queued = await UntilQueuedAsync(browser, 2);
        Assert.Empty(await LandedAsync(sessionId));
        AssertPageIsClean(browser);

        browser.Driver.Navigate().GoToUrl(site.Site.Url("/live/quiet"));
        var landed = await SettledAsync(browser, sessionId);
        Assert.Equal(queued.Order(), landed.Select(e => e.Id).Order());
        AssertOneJourney(landed, signalId, "impression", "save");
        AssertPageIsClean(browser);
    }

    [Fact]
    public async Task Distribution_parameter_in_the_landing_url_starts_a_new_journey_that_a_reload_keeps()
    {
        using var browser = HeadlessChromium.Start();
        var (before, sessionId) = OpenArticle(browser, "/live/article");
        await UntilLandedAsync(sessionId, 1);

        var (landing, _) = OpenArticle(browser, "/live/article?d=linkedin-post-42");
        await UntilLandedAsync(sessionId, 2);
        browser.Driver.Navigate().Refresh();
        var (afterReload, _) = WaitForSnippet(browser);
        await UntilLandedAsync(sessionId, 3);
        var (onwards, _) = OpenArticle(browser, "/live/article");
        await UntilLandedAsync(sessionId, 4);

        Assert.NotEqual(before, landing);
        Assert.Equal(landing, afterReload);
        Assert.Equal(landing, onwards);
        var landed = await LandedAsync(sessionId);
        Assert.Equal(4, landed.Count);
        Assert.Single(landed, e => e.SignalId == before && e.Distribution is null);
        Assert.Equal(3, landed.Count(e => e.SignalId == landing && e.Distribution == "linkedin-post-42"));
        AssertPageIsClean(browser);
    }

    [Fact]
    public async Task Event_the_api_rejects_is_dropped_without_retry_and_its_batchmates_still_land()
    {
        using var browser = HeadlessChromium.Start();
        var (signalId, _) = OpenArticle(browser, "/live/quiet");

        // Tracked in one task, so sent as one batch, which the API refuses whole.
        var ids = ((ReadOnlyCollection<object>)browser.Run("""
            var e = {target_type: 'tutor', target_id: arguments[0], source_component: 'tutor_embed'};
            return [
              signal.track(Object.assign({event_type: 'impression'}, e)),
              signal.track(Object.assign({event_type: 'teleport'}, e)),
              signal.track(Object.assign({event_type: 'click'}, e)),
            ];
            """, TestSite.TutorId.ToString())!).Select(id => Guid.Parse((string)id)).ToList();
        var (_, sessionId) = WaitForSnippet(browser);

        await UntilLandedAsync(sessionId, 2);
        var landed = await SettledAsync(browser, sessionId);
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), landed.Select(e => e.Id).Order());
        AssertOneJourney(landed, signalId, "click", "impression");
        var warnings = (ReadOnlyCollection<object>)browser.Run("return window.__warnings")!;
        Assert.Single(warnings);
        Assert.Empty((ReadOnlyCollection<object>)browser.Run("return window.__errors")!);
    }

    [Fact]
    public async Task Event_stamped_by_a_device_clock_far_ahead_lands_with_the_server_time_instead_of_being_dropped()
    {
        using var browser = HeadlessChromium.Start();
        OpenArticle(browser, "/live/quiet");

        // The device's clock runs 10 minutes fast; the API refuses occurred_at over 5 minutes ahead.
        var id = Guid.Parse((string)browser.Run("""
            var iso = Date.prototype.toISOString;
            Date.prototype.toISOString = function () { return iso.call(new Date(this.getTime() + 600000)); };
            return signal.track({event_type: 'impression', target_type: 'tutor', target_id: arguments[0], source_component: 'tutor_embed'});
            """, TestSite.TutorId.ToString())!);
        var (_, sessionId) = WaitForSnippet(browser);

        await UntilLandedAsync(sessionId, 1);
        Assert.Equal(id, Assert.Single(await SettledAsync(browser, sessionId)).Id);
        Assert.True(await site.Db.ScalarAsync<bool>(
            "SELECT abs(extract(epoch FROM now() - created_at)) < 60 FROM blog_attribution_events WHERE id = @id", new { id }));
        Assert.Equal("[]", browser.Run("return JSON.stringify(window.__warnings)"));
    }

    private (string SignalId, string SessionId) OpenArticle(HeadlessChromium browser, string path)
    {
        browser.Driver.Navigate().GoToUrl(site.Site.Url(path));
        return WaitForSnippet(browser);
    }

    /// <summary>Waits until the async snippet has run, then reads the journey and session it keeps.</summary>
    private static (string SignalId, string SessionId) WaitForSnippet(HeadlessChromium browser)
    {
        var clock = Stopwatch.StartNew();
        while (browser.Run("return !!(window.signal && window.signal.loaded)") is not true)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"The snippet did not load on {browser.Driver.Url}: {browser.Run("return JSON.stringify(window.__errors)")}");
            }
            Thread.Sleep(50);
        }
        var ids = (ReadOnlyCollection<object>)browser.Run(
            "return [signal.signalId(), JSON.parse(localStorage.getItem('signal:session') || '{}').id || '']")!;
        return ((string)ids[0], (string)ids[1]);
    }

    private static async Task FollowLinkAwayAsync(HeadlessChromium browser)
    {
        browser.Driver.FindElement(By.Id("tutor")).Click();
        await Until(() => Task.FromResult(browser.Driver.Url.EndsWith("/plain", StringComparison.Ordinal)), "the link to navigate away");
    }

    /// <summary>
    /// What landed once the snippet on the current page has nothing left queued. That is final, with
    /// nothing to wait out: an event leaves the queue only when the API answered 2xx (it committed) or
    /// refused it, and events are queued under their id before any send. So whatever may still be on
    /// the wire (a beacon or keepalive fetch of an earlier page) carries ids already landed or refused,
    /// which the API stores once; and the resend that emptied the queue, the one that would
    /// duplicate, has been answered.
    /// </summary>
    private async Task<IReadOnlyList<LandedEvent>> SettledAsync(HeadlessChromium browser, string sessionId)
    {
        await UntilQueueIsEmptyAsync(browser);
        return await LandedAsync(sessionId);
    }

    private static void AssertOneJourney(IReadOnlyList<LandedEvent> landed, string signalId, params string[] eventTypes)
    {
        Assert.Equal(eventTypes, landed.Select(e => e.EventType).Order());
        Assert.All(landed, e => Assert.Equal(signalId, e.SignalId));
    }

    private static void AssertPageIsClean(HeadlessChromium browser) =>
        Assert.Equal("[]", browser.Run("return JSON.stringify(window.__errors || [])"));

    private async Task<IReadOnlyList<LandedEvent>> LandedAsync(string sessionId) =>
        await site.Db.QueryAsync<LandedEvent>("""
            SELECT id AS Id, event_type AS EventType, metadata->>'signal_id' AS SignalId,
                   metadata->>'distribution_id' AS Distribution
              FROM blog_attribution_events
             WHERE session_id = @sessionId
            """, new { sessionId });

    /// <summary>Until at least that many rows landed; the test then checks there are no more.</summary>
    private Task UntilLandedAsync(string sessionId, int count) =>
        Until(async () => (await LandedAsync(sessionId)).Count >= count, $"{count} events of session {sessionId} to land");

    private static async Task<IReadOnlyList<Guid>> UntilQueuedAsync(HeadlessChromium browser, int count)
    {
        IReadOnlyList<Guid> queued = [];
        await Until(() =>
        {
            queued = Queued(browser);
            return Task.FromResult(queued.Count == count);
        }, $"{count} events queued in localStorage");
        return queued;
    }

    private static Task UntilQueueIsEmptyAsync(HeadlessChromium browser) =>
        Until(() => Task.FromResult(Queued(browser).Count == 0), "the snippet's queue in localStorage to empty");

    private static IReadOnlyList<Guid> Queued(HeadlessChromium browser) =>
        ((ReadOnlyCollection<object>)browser.Run(
            "return Object.keys(localStorage).filter(function (k) { return k.indexOf('signal:q:') === 0; }).map(function (k) { return k.slice(9); })")!)
        .Select(id => Guid.Parse((string)id)).ToList();

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > DeliveryTimeout)
            {
                throw new TimeoutException($"Waited {DeliveryTimeout.TotalSeconds:0} s for {what}.");
            }
            await Task.Delay(100);
        }
    }
}
