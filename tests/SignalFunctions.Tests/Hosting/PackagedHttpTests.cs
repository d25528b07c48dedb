using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using SignalFunctions.Tests.Faults;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Hosting;

/// <summary>
/// The deployed package served through the host's side of the contract: HTTP forwarded to the
/// worker's ASP.NET Core integration, a timer run on demand, the client address, a SIGTERM.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class PackagedHttpTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private FunctionPackage _package = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await _db.SetStageAsync("signal-events", "dual_write");
        _package = await FunctionPackage.GetAsync();
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task Forwarded_ingest_request_gets_202_after_the_row_is_committed_and_no_address_is_stored()
    {
        await using var app = await PackagedApp.StartAsync(_package, PackagedApp.Settings(_db.ConnectionString));
        var e = Events.Signal();
        using var request = FaultKit.Post("/api/signal/events?utm_source=newsletter&code=function-key-from-query", Events.Json(e), "text/plain", PackagedApp.AllowedOrigin);
        request.Headers.Add("x-functions-key", "function-key-from-header");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await response.JsonAsync()).GetProperty("accepted").GetInt32());
        Assert.Equal(PackagedApp.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM signal_events WHERE id = @id", new { id = (Guid)e["id"]! }));
        Assert.Equal(0L, await _db.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM signal_events s WHERE row_to_json(s)::text LIKE '%203.0.113.7%') + (SELECT count(*) FROM blog_attribution_events b WHERE row_to_json(b)::text LIKE '%203.0.113.7%')"));
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task A_cors_preflight_reaches_the_function_and_gets_the_allowed_origin()
    {
        await using var app = await PackagedApp.StartAsync(_package, PackagedApp.Settings(_db.ConnectionString));
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/signal/events");
        preflight.Headers.Add("Origin", PackagedApp.AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");

        using var response = await app.Client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(PackagedApp.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task A_timer_run_through_the_admin_api_executes_in_the_worker()
    {
        // Only the admin API runs it: the schedule never fires during the test.
        var settings = new Dictionary<string, string>(PackagedApp.Settings(_db.ConnectionString)) { ["RepairSchedule"] = FaultKit.NeverSchedule };
        await using var app = await PackagedApp.StartAsync(_package, settings);

        using var response = await app.Client.PostAsync("/admin/functions/Repair", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await WaitForOutputAsync(app, "Executed 'Functions.Repair' (Succeeded");
        Assert.Contains("Executing 'Functions.Repair' (Reason='Manual run (admin API)'", app.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task X_forwarded_for_feeds_the_rate_limiter_one_bucket_per_client_address()
    {
        var settings = new Dictionary<string, string>(PackagedApp.Settings(_db.ConnectionString))
        {
            ["Ingest__RateLimitPerSecond"] = "1",
            ["Ingest__RateLimitBurst"] = "2",
        };
        await using var app = await PackagedApp.StartAsync(_package, settings);

        async Task<HttpStatusCode> SendFromAsync(string address)
        {
            using var request = FaultKit.Post("/api/signal/events", Events.Json(Events.Signal()), "text/plain", PackagedApp.AllowedOrigin);
            request.Headers.Add("X-Forwarded-For", address);
            using var response = await app.Client.SendAsync(request);
            return response.StatusCode;
        }

        var first = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            first.Add(await SendFromAsync("198.51.100.1"));
        }
        // Another client behind the same front end has a bucket of its own.
        var other = await SendFromAsync("198.51.100.2");

        Assert.Contains(HttpStatusCode.TooManyRequests, first);
        Assert.Equal(HttpStatusCode.Accepted, first[0]);
        Assert.Equal(HttpStatusCode.Accepted, other);
    }

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task Sigterm_under_load_drains_every_event_it_answered_202()
    {
        var settings = new Dictionary<string, string>(PackagedApp.Settings(_db.ConnectionString)) { ["Ingest__RateLimitPerSecond"] = "0" };
        var app = await PackagedApp.StartAsync(_package, settings);
        var acknowledged = new ConcurrentBag<Guid>();
        using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        async Task SendAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var e = Events.Signal();
                try
                {
                    using var response = await client.PostAsync("/api/signal/events", new StringContent(Events.Json(e), Encoding.UTF8, "application/json"), stop.Token);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        acknowledged.Add((Guid)e["id"]!);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    // The host stopped taking requests: what it refused was never promised.
                    return;
                }
            }
        }

        var senders = Enumerable.Range(0, 8).Select(_ => Task.Run(SendAsync)).ToList();
        while (acknowledged.Count < 200 && !stop.IsCancellationRequested)
        {
            await Task.Delay(20);
        }
        await app.DisposeAsync(); // SIGTERM, then waits for both processes to exit
        await stop.CancelAsync();
        await Task.WhenAll(senders);

        Assert.True(acknowledged.Count >= 200, $"only {acknowledged.Count} events answered 202 before the SIGTERM");
        var stored = (await _db.QueryAsync<Guid>("SELECT id FROM signal_events")).ToHashSet();
        Assert.DoesNotContain(acknowledged, id => !stored.Contains(id));
    }

    private static async Task WaitForOutputAsync(AppProcess app, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!app.Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' did not appear within 60 s:\n{app.Output}");
            await Task.Delay(50);
        }
    }
}
