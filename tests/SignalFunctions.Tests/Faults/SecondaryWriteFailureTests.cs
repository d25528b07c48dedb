using System.Net;
using System.Text;
using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Faults;

/// <summary>
/// The non-authoritative side fails (its table renamed away): requests still get 202, every affected
/// event is queued for repair in the same transaction, /api/health counts the failures, and the
/// repair verb makes the two sides equal once the table is back.
/// </summary>
public sealed class SecondaryWriteFailureTests : IAsyncLifetime
{
    private const string WebhookSecret = "secondary-failure-secret";
    private TestDatabase _db = null!;
    private AppProcess? _app;

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        await _db.DisposeAsync();
    }

    private async Task<AppProcess> StartAsync(string migration, string stage)
    {
        await _db.SetStageAsync(migration, stage);
        _app = await AppProcess.StartAsync(_db.ConnectionString, new Dictionary<string, string>
        {
            // The test runs the repair itself, when the table is back; the timer must not race it,
            // nor the backfill's rebuild of a chronology the repair is about to fill (it fires each minute).
            ["RepairSchedule"] = FaultKit.NeverSchedule,
            ["BackfillSchedule"] = FaultKit.NeverSchedule,
            ["Clicks__WebhookSecret"] = WebhookSecret,
        });
        return _app;
    }

    /// <summary>Five single events and a batch of ten, as separate requests; every one must get 202.</summary>
    private static async Task<List<Dictionary<string, object?>>> SendEventsAsync(AppProcess app)
    {
        var sent = new List<Dictionary<string, object?>>();
        for (var i = 0; i < 5; i++)
        {
            var e = Events.Signal(eventType: i % 2 == 0 ? "impression" : "click");
            e["user_id"] = i % 2 == 0 ? Guid.NewGuid() : null;
            e["metadata"] = new Dictionary<string, object> { ["page"] = $"/blog/{i}", ["position"] = i, ["nested"] = new { tags = new[] { "a", "b" } } };
            using var response = await app.PostJsonAsync("/api/signal/events", Events.Json(e));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            sent.Add(e);
        }
        var batch = Enumerable.Range(0, 10).Select(_ => Events.Signal(eventType: "save")).ToList();
        using (var response = await app.PostJsonAsync("/api/signal/events", Events.Json(new { events = batch })))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal(10, (await response.JsonAsync()).GetProperty("accepted").GetInt32());
        }
        sent.AddRange(batch);
        return sent;
    }

    private static Guid[] Ids(IEnumerable<Dictionary<string, object?>> events) => events.Select(e => (Guid)e["id"]!).ToArray();

    private sealed record Entry(string TargetSide, string EntityKey, string Operation, string Payload, string Error, DateTime? ResolvedAt);

    private Task<IReadOnlyList<Entry>> EntriesAsync(string migration) => _db.QueryAsync<Entry>(
        """
        SELECT target_side AS TargetSide, entity_key AS EntityKey, operation, payload::text AS Payload, error, resolved_at AS ResolvedAt
          FROM repair_entries WHERE migration = @migration ORDER BY id
        """, new { migration });

    /// <summary>One entry per event, for the failed side, carrying the event as it was sent.</summary>
    private async Task AssertOneEntryPerEventAsync(List<Dictionary<string, object?>> sent, string side)
    {
        var entries = await EntriesAsync("signal-events");
        Assert.Equal(sent.Count, entries.Count);
        Assert.Equal(Ids(sent).Select(id => id.ToString()).Order(), entries.Select(e => e.EntityKey).Order());
        foreach (var entry in entries)
        {
            Assert.Equal((side, "insert_event"), (entry.TargetSide, entry.Operation));
            Assert.StartsWith("42P01: ", entry.Error, StringComparison.Ordinal); // undefined_table
            Assert.Null(entry.ResolvedAt);
            var e = sent.Single(s => s["id"]!.ToString() == entry.EntityKey);
            var payload = JsonDocument.Parse(entry.Payload).RootElement;
            foreach (var field in new[] { "signal_id", "content_id", "target_id", "user_id" })
            {
                Assert.Equal(e.GetValueOrDefault(field)?.ToString(), payload.GetProperty(field).ValueKind == JsonValueKind.Null ? null : payload.GetProperty(field).GetString());
            }
            foreach (var field in new[] { "content_type", "target_type", "event_type", "source_component", "session_id" })
            {
                Assert.Equal((string)e[field]!, payload.GetProperty(field).GetString());
            }
            Assert.True(JsonElement.DeepEquals(JsonSerializer.SerializeToElement(e["metadata"]), payload.GetProperty("metadata")), $"metadata of {entry.EntityKey}: {payload}");
            Assert.True(payload.GetProperty("created_at").TryGetDateTimeOffset(out _));
        }
    }

    private static async Task AssertHealthCountsAsync(AppProcess app, string migration, string failedSide, int failures)
    {
        var (status, report) = await app.HealthReportAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("degraded", report.GetProperty("status").GetString());
        var health = report.GetProperty("migrations").GetProperty(migration);
        var failed = health.GetProperty(failedSide);
        Assert.Equal(failures, failed.GetProperty("write_failures").GetInt64());
        Assert.StartsWith("42", failed.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, health.GetProperty(failedSide == "new" ? "legacy" : "new").GetProperty("write_failures").GetInt64());
        Assert.Equal(failures, health.GetProperty("repair_pending").GetInt64());
    }

    private async Task RepairAsync(string migration, int expectedRepaired)
    {
        var (exitCode, output) = await FaultKit.RunRepairVerbAsync(_db.ConnectionString, migration);
        Assert.True(exitCode == 0, $"repair exited {exitCode}: {output}");
        Assert.Contains($"{migration}: {expectedRepaired} repaired, 0 failed, 0 remaining", output, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM repair_entries WHERE resolved_at IS NULL"));
        var (_, report) = await _app!.HealthReportAsync();
        Assert.Equal(0, report.GetProperty("migrations").GetProperty(migration).GetProperty("repair_pending").GetInt64());
    }

    /// <summary>Rows of these ids identical on both sides, column for column (the legacy side keeps signal_id in metadata).</summary>
    private async Task AssertSidesEqualAsync(Guid[] ids)
    {
        var rows = await _db.QueryAsync<(Guid Id, string? Differences)>(
            """
            SELECT l.id,
                   CASE WHEN n.id IS NULL THEN 'missing on the new side' ELSE nullif(concat_ws(', ',
                     CASE WHEN n.signal_id::text IS DISTINCT FROM l.metadata ->> 'signal_id' THEN 'signal_id' END,
                     CASE WHEN n.content_id <> l.blog_article_id OR n.content_type <> 'article' THEN 'content' END,
                     CASE WHEN n.user_id IS DISTINCT FROM l.user_id THEN 'user_id' END,
                     CASE WHEN n.session_id IS DISTINCT FROM l.session_id THEN 'session_id' END,
                     CASE WHEN (n.target_type, n.target_id) <> (l.target_type, l.target_id) THEN 'target' END,
                     CASE WHEN (n.event_type, n.source_component) <> (l.event_type, l.source_component) THEN 'event_type/source_component' END,
                     CASE WHEN n.metadata <> l.metadata - 'signal_id' THEN 'metadata' END,
                     CASE WHEN n.created_at <> l.created_at THEN format('created_at %s <> %s', n.created_at, l.created_at) END), '') END
              FROM blog_attribution_events l LEFT JOIN signal_events n USING (id)
             WHERE l.id = ANY(@ids)
            """, new { ids });
        Assert.Equal(ids.Length, rows.Count);
        var different = rows.Where(r => r.Differences is not null).ToList();
        Assert.True(different.Count == 0,
            $"{different.Count} of {ids.Length} events differ between the sides after repair, e.g. {string.Join("; ", different.Take(3).Select(r => $"{r.Id}: {r.Differences}"))}");
    }

    [Theory(Timeout = FaultKit.TestTimeoutMs)]
    [InlineData("dual_write", "signal_events", "new")]
    [InlineData("live", "blog_attribution_events", "legacy")]
    public async Task Secondary_side_failure_is_queued_counted_and_repaired(string stage, string secondaryTable, string secondarySide)
    {
        var authoritativeTable = secondarySide == "new" ? "blog_attribution_events" : "signal_events";
        var app = await StartAsync("signal-events", stage);
        await _db.ExecuteAsync($"ALTER TABLE {secondaryTable} RENAME TO {secondaryTable}_away");

        var sent = await SendEventsAsync(app);
        if (secondarySide == "legacy")
        {
            // No legacy home (not an article): written to signal_events alone, so not queued for the legacy side.
            using var response = await app.PostJsonAsync("/api/signal/events", Events.Json(Events.Signal(contentType: "video")));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var ids = Ids(sent);
        Assert.Equal(ids.Length, await _db.ScalarAsync<long>($"SELECT count(*) FROM {authoritativeTable} WHERE id = ANY(@ids)", new { ids }));
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM {secondaryTable}_away"));
        await AssertOneEntryPerEventAsync(sent, secondarySide);
        await AssertHealthCountsAsync(app, "signal-events", secondarySide, ids.Length);

        await _db.ExecuteAsync($"ALTER TABLE {secondaryTable}_away RENAME TO {secondaryTable}");
        await RepairAsync("signal-events", ids.Length);

        await AssertSidesEqualAsync(ids);
        Assert.Equal(ids.Length, await _db.ScalarAsync<long>($"SELECT count(*) FROM {secondaryTable}"));

        // With the table back, writes reach both sides again, with nothing more to repair.
        var after = Events.Signal();
        using (var response = await app.PostJsonAsync("/api/signal/events", Events.Json(after)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await AssertSidesEqualAsync([(Guid)after["id"]!]);
        Assert.Equal(ids.Length, await _db.ScalarAsync<long>("SELECT count(*) FROM repair_entries"));
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task Click_chronology_failure_in_dual_write_is_queued_counted_and_repaired()
    {
        var app = await StartAsync("click-events", "dual_write");
        await _db.ExecuteAsync("ALTER TABLE cuft_click_tracking RENAME COLUMN events TO events_away");

        using (var click = await app.PostJsonAsync("/api/clicks", """{"click_id":"c-repair-1","platform":"google","utm_source":"news"}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, click.StatusCode);
        }
        foreach (var eventType in new[] { "phone_click", "generate_lead" })
        {
            using var response = await app.PostJsonAsync("/api/clicks/c-repair-1/events", $$"""{"event_type":"{{eventType}}"}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        const string status = """{"click_id":"c-repair-1","qualified":true,"score":80}""";
        using (var webhook = new HttpRequestMessage(HttpMethod.Post, "/api/clicks/webhook") { Content = new StringContent(status, Encoding.UTF8, "application/json") })
        {
            webhook.Headers.Add("X-Signature", "sha256=" + Convert.ToHexStringLower(
                System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), Encoding.UTF8.GetBytes(status))));
            using var response = await app.Client.SendAsync(webhook);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // The authoritative (legacy) columns are written; each chronology write is queued, in order.
        var legacy = await _db.QueryAsync<(string Platform, string UtmSource, bool Qualified, int Score)>(
            "SELECT platform, utm_source, qualified, score FROM cuft_click_tracking WHERE click_id = 'c-repair-1'");
        Assert.Equal(("google", "news", true, 80), Assert.Single(legacy));
        var entries = await EntriesAsync("click-events");
        Assert.Equal(["init_events", "append_event", "append_event", "append_event"], entries.Select(e => e.Operation));
        Assert.All(entries, e => Assert.Equal(("new", "c-repair-1"), (e.TargetSide, e.EntityKey)));
        Assert.All(entries, e => Assert.StartsWith("42703: ", e.Error, StringComparison.Ordinal)); // undefined_column
        await AssertHealthCountsAsync(app, "click-events", "new", 4);

        await _db.ExecuteAsync("ALTER TABLE cuft_click_tracking RENAME COLUMN events_away TO events");
        await RepairAsync("click-events", 4);

        // The chronology is exactly the queued entries, oldest first.
        var events = JsonDocument.Parse(await _db.ScalarAsync<string>("SELECT events::text FROM cuft_click_tracking WHERE click_id = 'c-repair-1'")).RootElement;
        var appended = entries.Skip(1).Select(e => JsonDocument.Parse(e.Payload).RootElement).ToList();
        Assert.Equal(appended.Count, events.GetArrayLength());
        for (var i = 0; i < appended.Count; i++)
        {
            Assert.True(JsonElement.DeepEquals(appended[i], events[i]), $"chronology entry {i}: {events[i]} is not {appended[i]}");
        }
        Assert.Equal(["phone_click", "generate_lead", "status_update"], events.EnumerateArray().Select(e => e.GetProperty("event").GetString()));
        Assert.Equal(80, events[2].GetProperty("score").GetInt32());
    }
}
