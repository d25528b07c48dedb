using System.Net;
using System.Text;
using System.Text.Json;
using SignalFunctions.Ingest;
using SignalFunctions.Stages;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

public sealed class ClicksAppFixture : AppFixture
{
    public const string Secret = "test-webhook-secret";

    protected override IDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Clicks__WebhookSecret"] = Secret,
        ["Clicks__MaxEventsPerClick"] = "3",
    };
}

/// <summary>Click tracking under the click-events migration: legacy columns versus the events chronology.</summary>
public sealed class ClicksApiTests : IClassFixture<ClicksAppFixture>
{
    private readonly TestDatabase _db;
    private readonly AppProcess _app;

    public ClicksApiTests(ClicksAppFixture fixture)
    {
        _db = fixture.Db;
        _app = fixture.App;
    }

    private sealed record ClickRow(string? Platform, string? UtmSource, string? UtmMedium, bool Qualified, int Score, string? Events, int EventsDropped);

    private Task<ClickRow> RowAsync(string clickId) => _db.QueryAsync<ClickRow>("""
        SELECT platform, utm_source AS UtmSource, utm_medium AS UtmMedium, qualified, score, events::text AS Events, events_dropped AS EventsDropped
          FROM cuft_click_tracking WHERE click_id = @clickId
        """, new { clickId }).ContinueWith(t => t.Result.Single(), TaskScheduler.Default);

    private Task StageAsync(string stage) => _db.SetStageAndWaitAsync(_app, KnownMigrations.ClickEvents, stage);

    private static string NewClickId() => "gclid-" + Guid.NewGuid().ToString("N");

    private async Task<HttpResponseMessage> RecordAsync(string clickId) => await _app.PostJsonAsync("/api/clicks", Events.Json(new
    {
        click_id = clickId, platform = "google", utm_source = "newsletter", utm_medium = "email", utm_campaign = "winter",
    }));

    /// <summary>A click recorded at this stage, with its chronology as the stage writes it.</summary>
    private async Task<string> RecordedClickAsync(string stage)
    {
        await StageAsync(stage);
        var clickId = NewClickId();
        (await RecordAsync(clickId)).Dispose();
        return clickId;
    }

    private Task<HttpResponseMessage> EventAsync(string clickId, object body) =>
        _app.PostJsonAsync($"/api/clicks/{clickId}/events", Events.Json(body));

    private Task<HttpResponseMessage> WebhookAsync(string body, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/clicks/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.Add(ClicksApi.SignatureHeader, signature);
        }
        return _app.Client.SendAsync(request);
    }

    private static List<string> EventNames(ClickRow row) =>
        JsonDocument.Parse(row.Events!).RootElement.EnumerateArray().Select(e => e.GetProperty("event").GetString()!).ToList();

    [Fact]
    public async Task In_stage_off_a_click_keeps_the_legacy_columns_and_no_chronology()
    {
        await StageAsync("off");
        var clickId = NewClickId();
        using var first = await RecordAsync(clickId);
        using var again = await RecordAsync(clickId);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.True(JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("created").GetBoolean());
        Assert.False(JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("created").GetBoolean());
        Assert.Equal(new ClickRow("google", "newsletter", "email", false, 0, null, 0), await RowAsync(clickId));
    }

    [Fact]
    public async Task In_dual_write_events_are_appended_with_a_server_timestamp_and_leads_also_set_qualified()
    {
        await StageAsync("dual_write");
        var clickId = NewClickId();
        (await RecordAsync(clickId)).Dispose();
        foreach (var type in new[] { "phone_click", "generate_lead" })
        {
            using var response = await _app.PostJsonAsync($"/api/clicks/{clickId}/events", Events.Json(new { event_type = type }));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var row = await RowAsync(clickId);
        Assert.True(row.Qualified);
        Assert.Equal(["phone_click", "generate_lead"], EventNames(row));
        var stamp = JsonDocument.Parse(row.Events!).RootElement[0].GetProperty("timestamp").GetDateTimeOffset();
        Assert.InRange(stamp, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task The_chronology_keeps_the_newest_entries_and_counts_what_it_dropped()
    {
        await StageAsync("complete");
        var clickId = NewClickId();
        (await RecordAsync(clickId)).Dispose();
        var types = new[] { "phone_click", "email_click", "form_submit", "generate_lead", "phone_click" };
        var dropped = new List<int>();
        foreach (var type in types)
        {
            using var response = await _app.PostJsonAsync($"/api/clicks/{clickId}/events", Events.Json(new { event_type = type }));
            dropped.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("dropped_oldest").GetInt32());
        }

        var row = await RowAsync(clickId);
        Assert.Equal(["form_submit", "generate_lead", "phone_click"], EventNames(row));
        Assert.Equal(2, row.EventsDropped);
        Assert.Equal([0, 0, 0, 1, 1], dropped);
        // complete: the legacy columns are no longer written.
        Assert.False(row.Qualified);
        Assert.Null(row.Platform);
    }

    [Fact]
    public async Task Events_for_an_unknown_click_are_a_404_and_bad_event_types_a_400()
    {
        using var unknown = await _app.PostJsonAsync("/api/clicks/nope-123/events", Events.Json(new { event_type = "phone_click" }));
        using var badType = await _app.PostJsonAsync("/api/clicks/nope-123/events", Events.Json(new { event_type = "purchase" }));
        using var badId = await _app.PostJsonAsync("/api/clicks/bad%20id/events", Events.Json(new { event_type = "phone_click" }));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
    }

    [Fact]
    public async Task A_retried_event_with_the_same_id_is_stored_once_and_answered_as_a_duplicate()
    {
        var clickId = await RecordedClickAsync("dual_write");
        var id = Guid.NewGuid();
        using var first = await EventAsync(clickId, new { event_type = "generate_lead", id });
        // A status between the lead and its retry: the retry must not make the click qualified again.
        var status = Events.Json(new { click_id = clickId, qualified = false, score = 5 });
        (await WebhookAsync(status, ClicksApi.Sign(Encoding.UTF8.GetBytes(status), ClicksAppFixture.Secret))).Dispose();

        // The same UUID in another spelling is the same event; the retry changes no row, not even date_updated.
        using var retry = await _db.AssertWritesNothingAsync(HttpStatusCode.Accepted,
            () => EventAsync(clickId, new { event_type = "generate_lead", id = id.ToString("D").ToUpperInvariant() }));
        using var later = await EventAsync(clickId, new { event_type = "phone_click" });

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.False((await first.JsonAsync()).GetProperty("duplicate").GetBoolean());
        var receipt = await retry.JsonAsync();
        Assert.True(receipt.GetProperty("duplicate").GetBoolean());
        Assert.Equal("generate_lead", receipt.GetProperty("event_type").GetString());
        Assert.Equal(0, receipt.GetProperty("dropped_oldest").GetInt32());
        Assert.False((await later.JsonAsync()).GetProperty("duplicate").GetBoolean());
        var row = await RowAsync(clickId);
        Assert.Equal(["generate_lead", "status_update", "phone_click"], EventNames(row));
        var entries = JsonDocument.Parse(row.Events!).RootElement;
        Assert.Equal(id.ToString("D"), entries[0].GetProperty("id").GetString());
        Assert.False(entries[2].TryGetProperty("id", out _));
        Assert.False(row.Qualified);
        Assert.Equal(5, row.Score);
    }

    [Fact]
    public async Task Concurrent_retries_of_one_event_id_append_it_once()
    {
        var clickId = await RecordedClickAsync("dual_write");
        var id = Guid.NewGuid();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => EventAsync(clickId, new { event_type = "form_submit", id })));

        var duplicates = new List<bool>();
        foreach (var response in responses)
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                duplicates.Add((await response.JsonAsync()).GetProperty("duplicate").GetBoolean());
            }
        }
        Assert.Single(duplicates, d => !d);
        var entry = Assert.Single(JsonDocument.Parse((await RowAsync(clickId)).Events!).RootElement.EnumerateArray());
        Assert.Equal(id.ToString("D"), entry.GetProperty("id").GetString());
    }

    [Fact]
    public async Task An_event_id_that_is_not_a_UUID_is_a_400_naming_the_field_and_writes_nothing()
    {
        var clickId = await RecordedClickAsync("dual_write");

        foreach (var id in new object[] { "retry-1", 42, "", "0b6f2a4e5c1d4f0e9a573d9c8e7b1a20" })
        {
            using var response = await _db.AssertWritesNothingAsync(HttpStatusCode.BadRequest,
                () => EventAsync(clickId, new { event_type = "generate_lead", id }));
            Assert.Equal(["id"], await response.ErrorFieldsAsync());
        }
        Assert.Equal("[]", (await RowAsync(clickId)).Events);
    }

    [Fact]
    public async Task A_signed_webhook_updates_qualification_on_both_sides_in_dual_write()
    {
        await StageAsync("dual_write");
        var clickId = NewClickId();
        (await RecordAsync(clickId)).Dispose();
        var body = Events.Json(new { click_id = clickId, qualified = true, score = 87 });

        using var response = await WebhookAsync(body, ClicksApi.Sign(Encoding.UTF8.GetBytes(body), ClicksAppFixture.Secret));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var row = await RowAsync(clickId);
        Assert.True(row.Qualified);
        Assert.Equal(87, row.Score);
        var entry = JsonDocument.Parse(row.Events!).RootElement.EnumerateArray().Single();
        Assert.Equal("status_update", entry.GetProperty("event").GetString());
        Assert.Equal(87, entry.GetProperty("score").GetInt32());
    }

    [Fact]
    public async Task A_webhook_with_a_forged_or_missing_signature_is_refused_and_changes_nothing()
    {
        await StageAsync("dual_write");
        var clickId = NewClickId();
        (await RecordAsync(clickId)).Dispose();
        var body = Events.Json(new { click_id = clickId, qualified = true, score = 99 });

        using var forged = await WebhookAsync(body, ClicksApi.Sign(Encoding.UTF8.GetBytes(body), "guessed-secret"));
        using var missing = await WebhookAsync(body, null);
        var tampered = body.Replace("99", "100", StringComparison.Ordinal);
        using var replayed = await WebhookAsync(tampered, ClicksApi.Sign(Encoding.UTF8.GetBytes(body), ClicksAppFixture.Secret));

        Assert.All(new[] { forged, missing, replayed }, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        var row = await RowAsync(clickId);
        Assert.False(row.Qualified);
        Assert.Equal("[]", row.Events);
    }
}
