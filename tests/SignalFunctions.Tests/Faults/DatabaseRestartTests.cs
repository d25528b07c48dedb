using System.Diagnostics;
using System.Net;
using SignalFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalFunctions.Tests.Faults;

/// <summary>
/// The database stopped under a running app, and started again: quick 503s with Retry-After while
/// it is down, normal service after, without restarting the app. On a cluster of its own.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class DatabaseRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>A 503 must come at once, not after a connect timeout of many seconds.</summary>
    private static readonly TimeSpan QuickAnswer = TimeSpan.FromSeconds(3);

    /// <summary>Long enough for the app's reconnect attempts to have backed off several times.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    /// <summary>Not the default (5): every endpoint's Retry-After must come from the one setting.</summary>
    private const int RetryAfterSeconds = 7;

    private PostgresCluster _cluster = null!;
    private TestDatabase _db = null!;
    private AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PostgresCluster.StartNewAsync();
        _db = await TestDatabase.CreateAsync(_cluster.AdminConnectionString);
        await _db.SetStageAsync("signal-events", "dual_write");
        _app = await AppProcess.StartAsync(_db.ConnectionString, new Dictionary<string, string>
        {
            ["Ingest__RateLimitPerSecond"] = "0",
            ["Ingest__RetryAfterSeconds"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // No periodic re-read within the test: a stage change obeyed came through the watcher's own reconnect.
            ["Flags__RefreshSeconds"] = "3600",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    private async Task<(HttpResponseMessage Response, TimeSpan Took)> TimedAsync(Func<Task<HttpResponseMessage>> send)
    {
        var watch = Stopwatch.StartNew();
        var response = await send();
        return (response, watch.Elapsed);
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, TimeSpan took, string what)
    {
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.True(took < QuickAnswer, $"{what} took {took.TotalSeconds:F1} s to answer 503");
        var retryAfter = int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(RetryAfterSeconds, retryAfter);
        var problem = await response.ProblemAsync();
        Assert.Contains("nothing was written", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    private async Task<long> RowsAsync(Guid id) => await _db.ScalarAsync<long>(
        "SELECT (SELECT count(*) FROM signal_events WHERE id = @id) + (SELECT count(*) FROM blog_attribution_events WHERE id = @id)", new { id });

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task Database_down_gives_quick_503s_and_service_resumes_after_restart_without_restarting_the_app()
    {
        using (var before = await _app.PostJsonAsync("/api/signal/events", Events.Json(Events.Signal())))
        {
            Assert.Equal(HttpStatusCode.Accepted, before.StatusCode);
        }

        await _cluster.StopAsync();

        // Down, for longer than a blip (the app's retries back off meanwhile): every ingest function
        // answers 503 with Retry-After at once, request after request.
        var stoppedAt = Stopwatch.StartNew();
        var whileDown = new List<Guid>();
        for (var i = 0; stoppedAt.Elapsed < Outage; i++)
        {
            var e = Events.Signal();
            whileDown.Add((Guid)e["id"]!);
            var (response, took) = await TimedAsync(() => _app.PostJsonAsync("/api/signal/events", Events.Json(e)));
            using (response)
            {
                await AssertUnavailableAsync(response, took, $"signal event {i}");
            }
            await Task.Delay(250);
        }
        var batch = Enumerable.Range(0, 20).Select(_ => Events.Signal()).ToList();
        whileDown.AddRange(batch.Select(e => (Guid)e["id"]!));
        var (batchResponse, batchTook) = await TimedAsync(() => _app.PostJsonAsync("/api/signal/events", Events.Json(batch)));
        using (batchResponse)
        {
            await AssertUnavailableAsync(batchResponse, batchTook, "a batch of 20");
        }
        var (clickResponse, clickTook) = await TimedAsync(() => _app.PostJsonAsync("/api/clicks", """{"click_id":"c-while-down"}"""));
        using (clickResponse)
        {
            await AssertUnavailableAsync(clickResponse, clickTook, "a click");
        }

        // The read endpoints say when to retry from the same setting.
        foreach (var path in new[] { "/api/migrations", $"/api/reports/brands/{Guid.NewGuid()}/daily?from=2026-01-01&to=2026-01-07" })
        {
            var (readResponse, readTook) = await TimedAsync(() => _app.Client.GetAsync(path));
            using (readResponse)
            {
                await AssertUnavailableAsync(readResponse, readTook, path);
            }
        }

        var healthWatch = Stopwatch.StartNew();
        var (healthStatus, health) = await _app.HealthReportAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthStatus);
        Assert.True(healthWatch.Elapsed < QuickAnswer + TimeSpan.FromSeconds(1), $"/api/health took {healthWatch.Elapsed.TotalSeconds:F1} s");
        Assert.False(health.GetProperty("database").GetProperty("reachable").GetBoolean());
        Assert.Equal("unhealthy", health.GetProperty("status").GetString());

        await _cluster.StartAsync();
        output.WriteLine($"database down for {stoppedAt.Elapsed.TotalSeconds:F1} s");
        // The test's own pool still holds connections from before the stop (the app's is its own business).
        _db.DataSource.Clear();

        // Up again: the very next requests are served by the same app process.
        var afterRestart = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            var e = Events.Signal();
            using var response = await _app.PostJsonAsync("/api/signal/events", Events.Json(e));
            Assert.True(response.StatusCode == HttpStatusCode.Accepted,
                $"request {i} after the restart: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            afterRestart.Add((Guid)e["id"]!);
        }
        foreach (var id in afterRestart)
        {
            Assert.Equal(2L, await RowsAsync(id));
        }
        // What was refused while down was written nowhere.
        Assert.Equal(0L, await _db.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM signal_events WHERE id = ANY(@ids)) + (SELECT count(*) FROM blog_attribution_events WHERE id = ANY(@ids))",
            new { ids = whileDown.ToArray() }));
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM cuft_click_tracking"));
        var (okStatus, ok) = await _app.HealthReportAsync();
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.True(ok.GetProperty("database").GetProperty("reachable").GetBoolean());

        // The flag watcher is back too: a stage change is obeyed, with the hour-long re-read out of
        // the picture, so by the watcher reconnecting and listening again.
        await _db.SetStageAsync("signal-events", "complete");
        var obeyedIn = await _app.WaitForStageAsync("signal-events", "complete", TimeSpan.FromSeconds(60));
        output.WriteLine($"stage change after the restart obeyed in {obeyedIn.TotalMilliseconds:F0} ms");
        var later = Events.Signal();
        using (var response = await _app.PostJsonAsync("/api/signal/events", Events.Json(later)))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        var laterId = (Guid)later["id"]!;
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @laterId", new { laterId }));
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM blog_attribution_events WHERE id = @laterId", new { laterId }));
    }
}
