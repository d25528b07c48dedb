using System.Net;
using System.Text.Json;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Ingest;

/// <summary>
/// The group-commit writer as tuned for BENCHMARKS.md: one pipelined round trip per group, the
/// savepoint semantics kept, a second writer that joins in under load, prepared statements.
/// </summary>
public sealed class GroupCommitTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        // A second writer joins in as soon as anything waits, so these tests exercise it too.
        _app = await AppProcess.StartAsync(_db.ConnectionString, new Dictionary<string, string>
        {
            ["Ingest__RateLimitPerSecond"] = "0",
            ["Ingest__Writers"] = "2",
            ["Ingest__ParallelGroupEvents"] = "1",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Failing_secondary_in_a_pipelined_group_keeps_the_authoritative_rows_and_records_repairs()
    {
        await SetStageAsync("dual_write");
        // More than Npgsql's auto-prepare threshold, so the failure hits prepared statements too.
        for (var i = 0; i < 7; i++)
        {
            await _app.AssertAcceptedAsync(Events.Json(Events.Signal()), accepted: 1, duplicates: 0);
        }
        await _db.ExecuteAsync("ALTER TABLE signal_events RENAME TO signal_events_away");
        var batch = new[] { Events.Signal(), Events.Signal(), Events.Signal() };

        await _app.AssertAcceptedAsync(Events.Json(batch), accepted: 3, duplicates: 0);

        var ids = batch.Select(e => (Guid)e["id"]!).ToArray();
        Assert.Equal(3L, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = ANY(@ids)", new { ids }));
        Assert.Equal(3L, await _db.ScalarAsync<long>(
            "SELECT count(*) FROM repair_entries WHERE target_side = 'new' AND entity_key = ANY(@keys) AND error LIKE '42P01:%'",
            new { keys = ids.Select(id => id.ToString()).ToArray() }));
        var health = await _app.HealthAsync();
        Assert.Equal(3, health.GetProperty("migrations").GetProperty("signal-events").GetProperty("new").GetProperty("write_failures").GetInt64());

        await _db.ExecuteAsync("ALTER TABLE signal_events_away RENAME TO signal_events");
        var after = Events.Signal();
        await _app.AssertAcceptedAsync(Events.Json(after), accepted: 1, duplicates: 0);
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @id", new { id = (Guid)after["id"]! }));
    }

    [Fact]
    public async Task Legacy_row_carries_the_journey_in_metadata_over_a_client_value()
    {
        await SetStageAsync("off");
        var e = Events.Signal();
        e["metadata"] = new Dictionary<string, object> { ["page"] = "/blog/a", ["signal_id"] = "from-the-client" };

        await _app.AssertAcceptedAsync(Events.Json(e), accepted: 1, duplicates: 0);

        var metadata = await _db.ScalarAsync<string>("SELECT metadata::text FROM blog_attribution_events WHERE id = @id", new { id = (Guid)e["id"]! });
        using var stored = JsonDocument.Parse(metadata);
        Assert.Equal(e["signal_id"]!.ToString(), stored.RootElement.GetProperty("signal_id").GetString());
        Assert.Equal("/blog/a", stored.RootElement.GetProperty("page").GetString());
    }

    [Fact]
    public async Task Repeated_id_within_one_batch_is_accepted_once()
    {
        await SetStageAsync("dual_write");
        var first = Events.Signal();
        var repeat = Events.Signal();
        repeat["id"] = first["id"];

        await _app.AssertAcceptedAsync(Events.Json(new[] { first, Events.Signal(), repeat }), accepted: 2, duplicates: 1);

        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @id", new { id = (Guid)first["id"]! }));
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @id", new { id = (Guid)first["id"]! }));
    }

    [Fact]
    public async Task Concurrent_requests_are_each_answered_with_their_own_receipt_after_commit()
    {
        await SetStageAsync("dual_write");
        var requests = Enumerable.Range(0, 40)
            .Select(i => i % 4 == 0 ? Enumerable.Range(0, 50).Select(_ => Events.Signal()).ToArray() : [Events.Signal()])
            .ToArray();

        var answers = await Task.WhenAll(requests.Select(async events =>
        {
            using var response = await _app.PostJsonAsync("/api/signal/events", Events.Json(events));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            using var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return (Sent: events.Length, Accepted: receipt.RootElement.GetProperty("accepted").GetInt32());
        }));

        Assert.All(answers, a => Assert.Equal(a.Sent, a.Accepted));
        var total = requests.Sum(r => r.Length);
        Assert.Equal((long)total, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events"));
        Assert.Equal((long)total, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }

    private Task SetStageAsync(string stage) => _db.SetStageAndWaitAsync(_app, "signal-events", stage);
}
