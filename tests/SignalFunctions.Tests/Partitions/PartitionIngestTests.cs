using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Partitions;

/// <summary>
/// Ingest into the month-partitioned signal_events: the key is (id, created_at), so a retry must carry
/// the same time to be a duplicate. A client time does that by itself; an id sent without one takes
/// the time the server first saw it.
/// </summary>
public sealed class PartitionIngestTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _app = await AppProcess.StartAsync(_db.ConnectionString, new Dictionary<string, string>
        {
            ["Ingest__RateLimitPerSecond"] = "0",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Retried_event_is_stored_once_across_a_boundary()
    {
        await _db.SetStageAndWaitAsync(_app, "signal-events", "complete");
        var boundary = await BoundarySoonAsync();
        var (before, after) = await _db.SplitAtAsync(boundary);
        var timed = Events.Signal();
        timed["occurred_at"] = boundary.AddMilliseconds(-1).ToString("O");
        var untimed = Events.Signal();

        await _app.AssertAcceptedAsync(Events.Json(new[] { timed, untimed }), accepted: 2, duplicates: 0);
        Assert.Equal(before, await PartitionOfAsync(untimed));
        await _db.WaitForDatabaseClockAsync(boundary);
        await _app.AssertAcceptedAsync(Events.Json(timed), accepted: 0, duplicates: 1);
        await _app.AssertAcceptedAsync(Events.Json(untimed), accepted: 0, duplicates: 1);
        // A new event now lands past the boundary: without the first-seen time, so would the retry.
        var fresh = Events.Signal();
        await _app.AssertAcceptedAsync(Events.Json(fresh), accepted: 1, duplicates: 0);

        Assert.Equal(before, await PartitionOfAsync(timed));
        Assert.Equal(before, await PartitionOfAsync(untimed));
        Assert.Equal(after, await PartitionOfAsync(fresh));
    }

    [Fact]
    public async Task Retried_untimed_event_is_stored_once_on_both_sides_in_dual_write()
    {
        await _db.SetStageAndWaitAsync(_app, "signal-events", "dual_write");
        var boundary = await BoundarySoonAsync();
        var (before, _) = await _db.SplitAtAsync(boundary);
        var untimed = Events.Signal();
        var repeat = Events.Signal();
        repeat["id"] = untimed["id"];

        await _app.AssertAcceptedAsync(Events.Json(new[] { untimed, repeat }), accepted: 1, duplicates: 1);
        await _db.WaitForDatabaseClockAsync(boundary);
        await _app.AssertAcceptedAsync(Events.Json(untimed), accepted: 0, duplicates: 1);

        var id = (Guid)untimed["id"]!;
        Assert.Equal(before, await PartitionOfAsync(untimed));
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @id", new { id }));
        Assert.True(await _db.ScalarAsync<bool>("""
            SELECT (SELECT created_at FROM signal_events WHERE id = @id) = (SELECT created_at FROM blog_attribution_events WHERE id = @id)
            """, new { id }));
    }

    [Fact]
    public async Task Event_for_a_month_without_a_partition_is_kept()
    {
        await _db.SetStageAndWaitAsync(_app, "signal-events", "dual_write");
        // The app made its partitions at start; now this month's goes, as if never made.
        var now = await _db.ScalarAsync<DateTime>("SELECT now()");
        var month = await _db.PartitionHoldingAsync(now);
        await _db.ExecuteAsync($"ALTER TABLE signal_events DETACH PARTITION {month}; DROP TABLE {month}");
        var e = Events.Signal();

        await _app.AssertAcceptedAsync(Events.Json(e), accepted: 1, duplicates: 0);

        Assert.Equal(month, await PartitionOfAsync(e));
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @id", new { id = (Guid)e["id"]! }));
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM repair_entries"));
        var health = await _app.HealthAsync();
        Assert.Equal(0, health.GetProperty("migrations").GetProperty("signal-events").GetProperty("new").GetProperty("write_failures").GetInt64());
    }

    [Fact]
    public async Task Event_whose_partition_cannot_be_made_now_gets_503_and_a_retry_is_kept()
    {
        await _db.SetStageAndWaitAsync(_app, "signal-events", "complete");
        var month = await _db.PartitionHoldingAsync(new DateTimeOffset(await _db.ScalarAsync<DateTime>("SELECT now()"), TimeSpan.Zero));
        await _db.ExecuteAsync($"ALTER TABLE signal_events DETACH PARTITION {month}; DROP TABLE {month}");
        var e = Events.Signal();
        e["occurred_at"] = DateTimeOffset.UtcNow.ToString("O");

        // A session holding the lock ATTACH needs (as a long VACUUM of the parent would).
        await using (var blocker = new Npgsql.NpgsqlConnection(_db.ConnectionString))
        {
            await blocker.OpenAsync();
            await using var tx = await blocker.BeginTransactionAsync();
            await Dapper.SqlMapper.ExecuteAsync(blocker, "LOCK TABLE signal_events IN SHARE UPDATE EXCLUSIVE MODE", transaction: tx);

            using var refused = await _app.PostJsonAsync("/api/signal/events", Events.Json(e));
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Contains("could not be made now", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @id", new { id = (Guid)e["id"]! }));
        }

        // The writer lives on: the retry makes the month and is kept.
        await _app.AssertAcceptedAsync(Events.Json(e), accepted: 1, duplicates: 0);
        Assert.Equal(month, await PartitionOfAsync(e));
    }

    // Far enough ahead for the first request to land before it, near enough for the test to wait.
    private async Task<DateTimeOffset> BoundarySoonAsync() =>
        new(await _db.ScalarAsync<DateTime>("SELECT date_trunc('second', clock_timestamp()) + interval '3 seconds'"), TimeSpan.Zero);

    private async Task<string> PartitionOfAsync(Dictionary<string, object?> e)
    {
        var partitions = await _db.QueryAsync<string>(
            "SELECT c.relname FROM signal_events e JOIN pg_class c ON c.oid = e.tableoid WHERE e.id = @id", new { id = (Guid)e["id"]! });
        return Assert.Single(partitions);
    }
}
